"""The parts of benchmarks/run.py: `common` (paths, the child environment, small
measurements through askfront.evaluation.metrics), `workers` (what each child process
measures), `processes` (starting children, the served app, the load average), `dataset`
(which articles and questions), `rounds` (one build round, one query run) and `table`
(the summary and its Markdown table). run.py parses the flags and runs them."""
