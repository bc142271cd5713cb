"""Model analysis as a static report (the What-If Tool's role): ``eo.analysis.report``.

out = eo.analysis.report("fashion-cnn", (x_test, y_test), "label",
                         class_names=FASHION_MNIST_CLASSES, path="analysis.html")
"""

from typing import TYPE_CHECKING

from eo_ray import _lazy

if TYPE_CHECKING:
    from eo_ray.analysis.errors import AnalysisError
    from eo_ray.analysis.report import AnalysisReport, report

__getattr__, __dir__ = _lazy.attach(__name__, __file__)

__all__ = ["AnalysisError", "AnalysisReport", "report"]
