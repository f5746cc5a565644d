"""The offline answerer: `question` reads what is asked, `sentence` what each candidate
sentence holds, `terms` matches the two, and `answerer` decides what to quote or refuses,
writing the answer with `compose`. Multi-hop questions get a second retrieval hop and
sentences linked across articles (`hops`, with `names` for name phrases); comparisons get
evidence for each compared name and a cited verdict (`compare`). `analysis` holds what was
computed for one question, `calibration` the thresholds and weights."""

from askfront.answering.extractive.analysis import Analysis
from askfront.answering.extractive.answerer import ExtractiveAnswerer
from askfront.answering.extractive.calibration import Thresholds

__all__ = ["Analysis", "ExtractiveAnswerer", "Thresholds"]
