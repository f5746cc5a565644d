"""The offline answerer, in four steps: `question` reads what is asked, `sentence` what each
candidate sentence holds, `terms` matches the two, and `answerer` decides what to quote or
refuses. `calibration` holds the thresholds and weights those steps use."""

from askfront.answering.extractive.answerer import Analysis, ExtractiveAnswerer
from askfront.answering.extractive.calibration import Thresholds

__all__ = ["Analysis", "ExtractiveAnswerer", "Thresholds"]
