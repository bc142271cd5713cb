"""Analysis reports on real data: Titanic (binary, tabular) and Fashion-MNIST (images)."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

import eo_ray as eo
from eo_ray.analysis import AnalysisError
from eo_ray.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist, load_titanic

FEATURES = ["Pclass", "SibSp", "Parch", "Fare", "male"]


@pytest.fixture
def titanic_model(workspace_root):
    from sklearn.linear_model import LogisticRegression

    df = load_titanic()
    df["male"] = (df["Sex"] == "male").astype(int)
    model = LogisticRegression(max_iter=500).fit(df[FEATURES], df["Survived"])
    return eo.models.register("titanic-analysis", model, "sklearn"), df


def _pngs(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r"data:image/png;base64,([^\"]+)", html)]


def test_binary_tabular_report(titanic_model, tmp_path):
    mv, df = titanic_model
    data = df[[*FEATURES, "Survived", "Embarked", "Age"]]
    out = eo.analysis.report(
        "titanic-analysis", data, "Survived", slices=["Embarked", "Age"], path=tmp_path / "r.html"
    )
    expected = (mv.load().predict(df[FEATURES]) == df["Survived"]).mean()
    assert out.metrics["accuracy"] == pytest.approx(expected)
    assert set(out.metrics["per_class"]) == {"0", "1"}
    assert set(out.metrics["slices"]["Embarked"]) == {"C", "Q", "S", "nan"}
    assert sum(v["rows"] for v in out.metrics["slices"]["Age"].values()) == len(df)
    binary = out.metrics["binary"]
    assert 0.7 < binary["roc_auc"] <= 1.0
    recalls = [row["recall"] for row in binary["thresholds"]]
    assert recalls == sorted(recalls, reverse=True)
    html = (tmp_path / "r.html").read_text()
    for heading in (
        "By slice: Embarked",
        "Threshold table",
        "Partial dependence",
        "counterfactual",
    ):
        assert heading in html
    assert "<script" not in html
    assert "http" not in html.split("<body>")[1]
    pngs = _pngs(html)
    assert len(pngs) >= 10
    assert all(p.startswith(b"\x89PNG") for p in pngs)
    assert "male: 1 → 0" in html or "male: 0 → 1" in html


def test_image_report_with_gallery(fashion_image_model):
    mv, x, y = fashion_image_model
    frame = pd.DataFrame({"chip": list(x), "label": y, "brightness": x.mean(axis=(1, 2, 3))})
    out = eo.analysis.report(
        mv, frame, "label", slices=["brightness"], image="chip", class_names=FASHION_MNIST_CLASSES
    )
    assert 0.5 < out.metrics["accuracy"] < 1.0
    assert "Ankle boot" in out.metrics["per_class"]
    assert len(out.metrics["slices"]["brightness"]) == 4
    assert "Misclassified chips" in out.html
    assert "binary" not in out.metrics
    assert "Partial dependence" not in out.html
    assert " → " in out.html


@pytest.fixture
def fashion_image_model(workspace_root):
    import torch

    from eo_ray.train.recipes import torch_cnn

    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    torch.manual_seed(0)
    net = torch_cnn(1, 28, 28, 10, filters=4)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    x = torch.as_tensor(x_train[:2000, None] / 255.0, dtype=torch.float32)
    y = torch.as_tensor(y_train[:2000].astype(np.int64))
    for i in range(0, 2000, 100):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x[i : i + 100]), y[i : i + 100]).backward()
        opt.step()
    mv = eo.models.register("fashion-analysis", net.eval(), "torch", input_example=x[:1].numpy())
    return mv, (x_test[:600, None] / 255.0).astype(np.float32), y_test[:600]


def test_bad_analysis_input(titanic_model):
    _, df = titanic_model
    with pytest.raises(AnalysisError, match="label column"):
        eo.analysis.report("titanic-analysis", df, "survived")
    with pytest.raises(AnalysisError, match="Slice columns"):
        eo.analysis.report("titanic-analysis", df, "Survived", slices=["Deck"])
    with pytest.raises(AnalysisError, match="lacks the model's features"):
        eo.analysis.report("titanic-analysis", df.drop(columns="Fare"), "Survived")
    with pytest.raises(AnalysisError, match="estimator with predict"):
        eo.analysis.report(42, df, "Survived")
    with pytest.raises(AnalysisError, match="DataFrame"):
        eo.analysis.report("titanic-analysis", [1, 2], "Survived")
