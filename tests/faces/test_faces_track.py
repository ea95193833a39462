import numpy as np
import pytest

from facetrust.faces import DetectedFace, FaceTracker, create_face_detector


def _face(cx, cy, s=100.0):
    lm = np.array([[-0.17, -0.2], [0.17, -0.2], [0.0, 0.0], [-0.14, 0.2], [0.14, 0.2]]) * s + [cx, cy]
    return DetectedFace(box=np.array([cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2]), score=0.9, landmarks5=lm)


def test_two_faces_keep_their_ids_while_moving_and_crossing_order():
    tracker = FaceTracker()
    seen = []
    for t in range(10):
        a = _face(100 + 20 * t, 200)  # moves right
        b = _face(600 - 20 * t, 220)  # moves left
        faces = [a, b] if t % 2 == 0 else [b, a]  # detector order changes between frames
        ids = tracker.update(faces)
        seen.append(dict(zip(["a", "b"] if t % 2 == 0 else ["b", "a"], ids)))
    assert len({s["a"] for s in seen}) == 1 and len({s["b"] for s in seen}) == 1
    assert seen[0]["a"] != seen[0]["b"]


def test_a_track_survives_a_short_gap_but_not_a_long_one():
    tracker = FaceTracker(max_gap=1)
    first = tracker.update([_face(100, 100)])[0]
    tracker.update([])
    assert tracker.update([_face(105, 100)])[0] == first
    tracker.update([])
    tracker.update([])
    tracker.update([])
    assert tracker.update([_face(110, 100)])[0] != first


def test_a_new_person_far_away_gets_a_new_id():
    tracker = FaceTracker()
    a = tracker.update([_face(100, 100)])[0]
    ids = tracker.update([_face(102, 101), _face(900, 500)])
    assert ids[0] == a and ids[1] != a


def test_tracks_a_real_moving_face(astronaut):
    det, tracker = create_face_detector("yunet"), FaceTracker()
    canvas_ids = []
    for t in range(8):
        canvas = np.full((600, 900, 3), 90, np.uint8)
        dx = 40 * t
        canvas[40:552, dx : dx + 512] = astronaut[:, : min(512, 900 - dx)]
        faces = det.detect(canvas)
        assert len(faces) == 1
        canvas_ids.append(tracker.update(faces)[0])
    assert len(set(canvas_ids)) == 1


def test_the_assignment_keeps_the_matches_scipy_would():
    """The tracker's own Hungarian solver (no scipy.optimize import in a scan) keeps exactly the pairs
    linear_sum_assignment keeps: the same optimum, gated pairs (1e6) aside."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    from facetrust.faces.track import min_cost_assignment

    rng = np.random.default_rng(1)
    for _ in range(3000):
        n, m = rng.integers(0, 9, 2)
        cost = rng.random((n, m)) * 3
        cost[rng.random((n, m)) < rng.random()] = 1e6
        r1, c1 = linear_sum_assignment(cost)
        r2, c2 = min_cost_assignment(cost)
        assert len(r2) == len(set(r2)) == len(set(c2)) == min(n, m)
        assert cost[r2, c2].sum() == pytest.approx(cost[r1, c1].sum())
        assert {(a, b) for a, b in zip(r1, c1) if cost[a, b] < 1e6} == \
            {(a, b) for a, b in zip(r2, c2) if cost[a, b] < 1e6}


def test_a_scan_does_not_import_scipy_optimize(demo_media):
    import subprocess
    import sys

    code = ("import sys, facetrust; r = facetrust.scan(sys.argv[1], frames=4); "
            "assert len(r.frames) == 4; print('scipy.optimize' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(demo_media["hopper_half_forged.mp4"])],
                         capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "False"
