"""Known answers for every metric: inputs whose right result is worked out by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from tests.support import run_spec
from worker import scheduler_metrics
from worker.engine import ComparisonEngine


def image(value: int | np.ndarray) -> Image.Image:
    array = np.full((4, 4, 3), value, dtype=np.uint8) if isinstance(value, int) else value.astype(np.uint8)
    return Image.fromarray(array)


def test_relative_distance_is_the_per_image_norm_ratio_averaged_over_images() -> None:
    final = torch.zeros((2, 4, 2, 2))
    final[0].fill_(2.0)  # ||final_0|| = 2 * 4 = 8
    final[1, 0, 0, 0] = 0.5  # ||final_1|| = 0.5 (small norms divide as well as large)
    x0 = final.clone()
    x0[0] *= 1.5  # ||x0_0 - final_0|| = 4: ratio 0.5
    x0[1, 1, 1, 1] = 0.05  # ||x0_1 - final_1|| = 0.05: ratio 0.1
    assert scheduler_metrics.relative_distance(x0, final) == pytest.approx((0.5 + 0.1) / 2, abs=1e-7)
    assert scheduler_metrics.relative_distance(final, final) == 0.0


@pytest.mark.parametrize(
    ("curve", "expected"),
    [
        ([(5, 0.5), (10, 0.2), (15, 0.3), (20, 0.1), (25, 0.05)], 20),  # dips at 10, rises again: emerged at 20
        ([(5, 0.1), (10, 0.05)], 5),  # below from the first captured step
        ([(5, 0.5), (10, 0.4), (15, 0.3)], None),  # never below
        ([(5, 0.1), (10, 0.3)], None),  # below, then not: it did not stay
        ([(5, 0.3), (10, scheduler_metrics.EMERGENCE_THRESHOLD), (15, 0.0)], 15),  # at the threshold is not below it
        ([], None),
    ],
)
def test_emergence_step_is_the_first_step_after_which_the_distance_stays_below(
    curve: list[tuple[int, float]], expected: int | None
) -> None:
    assert scheduler_metrics.emergence_step(curve) == expected


def test_emergence_step_takes_the_threshold_it_is_given() -> None:
    assert scheduler_metrics.emergence_step([(1, 0.4), (2, 0.3)], threshold=0.35) == 2


def test_psnr_known_answers() -> None:
    assert scheduler_metrics.psnr(image(10), image(11)) == pytest.approx(10 * math.log10(255**2 / 1.0))  # 48.1308 dB
    half = np.zeros((4, 4, 3))
    half[:2] = 4  # half the values differ by 4: MSE = 8
    assert scheduler_metrics.psnr(image(half), image(0)) == pytest.approx(10 * math.log10(255**2 / 8.0))
    assert scheduler_metrics.psnr(image(0), image(255)) == pytest.approx(0.0)
    assert scheduler_metrics.psnr(image(7), image(7)) == math.inf


def test_similarity_matrix_averages_mse_then_converts_to_db_identical_pairs_reported_as_identical() -> None:
    a = [image(10), image(20)]
    b = [image(10), image(21)]  # image 0 identical, image 1 one level off everywhere (48.13 dB)
    c = [image(10), image(20)]  # identical to a
    matrix = scheduler_metrics.similarity_matrix([a, b, c])
    # mean MSE (0 + 1) / 2 = 0.5 -> 51.14 dB (averaging dB with identical = 100 gave 74, which is neither)
    expected_ab = round(10 * math.log10(255**2 / 0.5), 3)
    assert matrix == [
        [None, expected_ab, None],
        [expected_ab, None, expected_ab],
        [None, expected_ab, None],
    ]
    assert scheduler_metrics.similarity_matrix([a]) == [[None]]


def test_manifest_states_the_similarity_rule_and_holds_the_matrix_it_describes(engine: ComparisonEngine) -> None:
    outcome, sink = run_spec(engine, schedulers=[{"name": "ddim"}, {"name": "ddim_sd_explicit"}, {"name": "euler"}])
    similarity = json.loads(sink.files[outcome.keys.manifest])["similarity"]
    assert similarity["metric"] == scheduler_metrics.SIMILARITY_RULE
    assert "mean over image pairs" in similarity["metric"] and "null" in similarity["metric"]
    matrix = similarity["matrix"]
    assert [matrix[i][i] for i in range(3)] == [None, None, None]
    assert matrix[0][1] is None  # the two DDIMs give identical images on SD 1.5's config
    assert isinstance(matrix[0][2], float) and matrix[0][2] == matrix[2][0]
