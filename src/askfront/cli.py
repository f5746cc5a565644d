"""The `askfront` command: index, ask, eval, serve. The only module that imports typer.

Heavy modules (torch, chromadb, gradio) are imported inside the commands, so `--help` and
argument errors are instant.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from askfront.core.errors import AskfrontError
from askfront.termtext import strip_escapes, to_json

if TYPE_CHECKING:
    from askfront.core.config import Settings
    from askfront.core.types import Answer, IndexReport, Turn

logger = logging.getLogger(__name__)
app = typer.Typer(
    help="Answers questions about a folder of articles, every claim cited. Offline by default.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

CorpusOpt = Annotated[
    Path | None, typer.Option("--corpus", help="Folder of articles [default: corpus/]")
]
IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index folder [default: index/]")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _settings(**overrides: Any) -> Settings:
    from pydantic import ValidationError

    from askfront.core.config import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        _fail("Invalid setting: " + "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors()))


def _fail(message: str, code: int = 1) -> NoReturn:
    from rich.markup import escape

    # Messages quote file names and document text: neither markup nor terminal escapes.
    text = escape(strip_escapes(message))
    err.print(f"[bold red]Error:[/] {text}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _user_errors() -> Iterator[None]:
    """AskfrontErrors become one clear line; anything else is logged, not dumped."""
    try:
        yield
    except AskfrontError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("Interrupted.", 130)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def run_index(settings: Settings, *, full: bool, as_json: bool, quiet: bool = False) -> IndexReport:
    """Sync the index and print the per-file report (shared by `index` and `eval`)."""
    from askfront.assistant import Assistant

    with _progress(err.is_terminal and not as_json) as progress:
        report = Assistant(settings).reindex(full=full, progress=progress)
    if as_json:
        print(to_json(_report_json(report)))
    elif not quiet:
        _print_report(report)
    return report


def _report_json(report: IndexReport) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        "counts": report.counts,
        "chunks_embedded": report.chunks_embedded,
        "seconds": round(report.seconds, 3),
        "full_rebuild": report.full_rebuild,
        "rebuild_reason": report.rebuild_reason,
        "repaired": report.repaired,
        "files": [asdict(f) for f in report.files],
    }


def _print_report(report: IndexReport) -> None:
    from rich.table import Table
    from rich.text import Text

    styles = {"added": "green", "updated": "cyan", "deleted": "yellow", "failed": "bold red"}
    shown = [f for f in report.files if f.status != "unchanged"]
    if shown:
        table = Table(show_header=True, header_style="bold")
        for col in ("file", "status", "chunks", "reason"):
            table.add_column(col)
        for f in shown:
            # Text cells: a file name like "[red]x.md" is not rich markup.
            table.add_row(
                Text(strip_escapes(f.path)),
                Text(f.status, style=styles.get(f.status, "")),
                str(f.chunks or ""),
                Text(strip_escapes(f.reason or "")),
            )
        out.print(table)
    if report.full_rebuild:
        out.print(f"Full rebuild: {report.rebuild_reason}.", markup=False)
    if report.repaired:
        out.print(f"Repaired: {report.repaired} (the stores disagreed).", markup=False)
    counts = ", ".join(f"{n} {s}" for s, n in report.counts.items())
    out.print(
        f"{counts}. {report.chunks_embedded} chunks embedded in {report.seconds:.1f} s.",
        highlight=False,
    )


@app.command()
def index(
    corpus: CorpusOpt = None,
    index_dir: IndexOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Re-embed everything.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build or refresh the index from the corpus folder (incremental by content hash)."""
    settings = _settings(corpus_dir=corpus, index_dir=index_dir)
    with _user_errors():
        report = run_index(settings, full=full, as_json=as_json)
    if report.counts["failed"]:
        raise typer.Exit(0)  # failed files are reported, not fatal: the others are indexed


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question to answer.")],
    index_dir: IndexOpt = None,
    history: Annotated[
        Path | None,
        typer.Option("--history", help='JSON file: a list of {"role", "content"} turns.'),
    ] = None,
    llm: Annotated[
        str | None,
        typer.Option("--llm", help="extractive | ollama:MODEL | openai:MODEL | local:PATH"),
    ] = None,
    as_json: JsonOpt = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="YYYY-MM-DD that 'last week' is read against [default: newest article]"
        ),
    ] = None,
) -> None:
    """Answer a question from the indexed articles, with numbered sources."""
    settings = _settings(index_dir=index_dir, llm=llm)
    turns = _read_history(history, settings) if history else []
    from askfront.assistant import Assistant
    from askfront.core.options import AskOptions

    # Per-question flags (none yet beyond --llm, which picks the backend) go into AskOptions.
    with _user_errors():
        answer = Assistant(settings).ask(question, turns, AskOptions(as_of=as_of))
    if as_json:
        print(to_json(answer.to_json()))
    else:
        _print_answer(answer)


def _read_history(path: Path, settings: Settings) -> list[Turn]:
    """The turns of a --history file, through the one history parser (askfront.core.history)."""
    from askfront.core.errors import QuestionError
    from askfront.core.history import check_size, parse_history

    what = f"History file {path}"
    try:
        # The size on disk first: a huge file is refused without reading it (UTF-8 has at
        # least one byte per character, so this never refuses a file within the limit).
        size = path.stat().st_size
        if size > 4 * settings.max_history_chars:
            check_size(size, settings.max_history_chars, what, unit="bytes")
        text = path.read_text(encoding="utf-8")
        return parse_history(text, max_chars=settings.max_history_chars, what=what)
    except FileNotFoundError:
        _fail(f"History file {path} does not exist.")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"History file {path} cannot be read as UTF-8 text: {exc}")
    except QuestionError as exc:
        _fail(str(exc))


def _print_answer(answer: Answer) -> None:
    """The answer as text. Everything from documents goes through strip_escapes."""
    from rich.markup import escape

    clean = strip_escapes
    if answer.notice:
        err.print(f"[yellow]Note:[/] {escape(clean(answer.notice))}", highlight=False)
    out.print(clean(answer.text), highlight=False, markup=False)
    for s in answer.sentences:
        if not s.supported:
            warning = "[yellow]⚠ not supported by its citations:[/]"
            out.print(f"{warning} {escape(clean(s.text))}", highlight=False)
    if answer.citations:
        out.print("\nSources:", style="bold")
        for c in answer.citations:
            where = f"{c.source}, chars {c.start}-{c.end}"
            out.print(
                clean(f"[{c.n}] {c.title or c.source} ({c.date or 'undated'}) — {where}"),
                highlight=False,
                markup=False,
            )
    elif answer.related:
        out.print("\nRelated reading:", style="bold")
        for c in answer.related:
            out.print(clean(f"- {c.title or c.source} ({c.date or 'undated'})"), markup=False)


@app.command("eval")
def eval_(
    testset: Annotated[Path, typer.Argument(help="Test set (JSONL, one question per line).")],
    corpus: Annotated[
        Path | None,
        typer.Option("--corpus", help="Build or refresh the index from this folder first."),
    ] = None,
    index_dir: IndexOpt = None,
    llm: Annotated[
        str | None,
        typer.Option("--llm", help="Answer with this backend; also enables LLM-as-judge metrics."),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results as JSON.")] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write a self-contained HTML report.")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Earlier --json output to diff against.")
    ] = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option("--fail-under", help="METRIC=VALUE; exit 1 when missed. Repeatable."),
    ] = None,
) -> None:
    """Evaluate answers on a test set: retrieval, answer, citation, refusal and latency metrics."""
    from askfront.evaluation.runner import EvalResult, run_eval
    from askfront.evaluation.testset import load_testset
    from askfront.evaluation.thresholds import check_thresholds

    settings = _settings(corpus_dir=corpus, index_dir=index_dir, llm=llm)
    with _user_errors():
        items = load_testset(testset)
        prev = EvalResult.load(baseline) if baseline else None
        # Reject a mistyped threshold before a long run (latency names exist only after it).
        check_thresholds({}, [f for f in fail_under or [] if not f.startswith("latency_")])
        if corpus is not None:
            run_index(settings, full=False, as_json=False, quiet=True)
        from askfront.assistant import Assistant

        assistant = Assistant(settings)
        answerer = assistant.answerer()
        judge = getattr(answerer, "model", None) if answerer.generative else None
        with _progress(err.is_terminal) as progress:
            result = run_eval(
                assistant, items, progress=progress, judge=judge,
                meta={"testset": str(testset), "llm": settings.llm},
            )  # fmt: skip
        _print_eval(result, prev)
        if json_out:
            result.save(json_out)
            out.print(f"Results: {json_out}")
        if report:
            from askfront.evaluation.report import render_html

            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(render_html(result, baseline=prev), encoding="utf-8")
            out.print(f"Report: {report}")
        misses = check_thresholds(result.metrics, fail_under or [])
    for miss in misses:
        err.print(f"[bold red]Below threshold:[/] {miss}", highlight=False, soft_wrap=True)
    if misses:
        raise typer.Exit(1)


def _print_eval(result: Any, baseline: Any) -> None:
    from rich.table import Table

    from askfront.evaluation.report import summary_rows
    from askfront.evaluation.runner import compare

    table = Table(title=f"askfront eval: {len(result.records)} questions", header_style="bold")
    for col in ("metric", "value", "baseline", "delta"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for row in summary_rows(result, baseline):
        table.add_row(*row)
    out.print(table)
    if baseline is not None:
        regressed, improved = compare(result, baseline)
        out.print(f"Regressed: {', '.join(regressed) or 'none'}", highlight=False)
        out.print(f"Improved: {', '.join(improved) or 'none'}", highlight=False)


@app.command()
def serve(
    corpus: CorpusOpt = None,
    index_dir: IndexOpt = None,
    host: Annotated[str | None, typer.Option(help="Interface to bind [default: 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: 7860]")] = None,
    allow_public: Annotated[
        bool | None,
        typer.Option("--allow-public", help="Allow a non-loopback host without auth (warns)."),
    ] = None,
) -> None:
    """Serve the web chat (Gradio) on http://127.0.0.1:7860."""
    settings = _settings(
        corpus_dir=corpus, index_dir=index_dir, host=host, port=port, allow_public=allow_public
    )
    from askfront.web.serve import serve as serve_ui

    with _user_errors():
        serve_ui(settings)


class _TerminalSafeFormatter(logging.Formatter):
    """Log lines quote file names and errors from documents: no terminal escapes either."""

    def format(self, record: logging.LogRecord) -> str:
        return strip_escapes(super().format(record))


def main() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_TerminalSafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    # pypdf warns per damaged object; the per-file report already says what failed.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        app()
    except AskfrontError as exc:  # pragma: no cover - commands catch their own
        err.print(f"[bold red]Error:[/] {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
