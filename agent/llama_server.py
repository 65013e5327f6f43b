"""llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`, its arguments unchanged) with
one rule changed: the KV prefix a request reuses from the last one. `litmol serve llm` runs this module.

llama-cpp-python reuses any matching prefix and computes the rest in `n_batch` steps from wherever the
match ended, so the same request got different logits after different requests (measured: the first
tool of 2 of 8 dev questions changed with the request before, and the Ray eval test failed in CI on
it). Here a prompt is always computed in `n_batch`-token chunks from position 0, and only whole
chunks computed that way are reused (`engines.reusable`, the local engines' rule), so a request's
answer is the same whatever came before. `serve_llm` passes `--n_batch 64`: up to 63 tokens
recomputed per request.
"""

from __future__ import annotations

from collections.abc import Sequence

import llama_cpp

from .engines import reusable


class ChunkedLlama(llama_cpp.Llama):
    """`Llama` whose prompt prefill never depends on the previous request."""

    _whole = 0  # cached positions computed as whole n_batch chunks from position 0

    def reset(self):
        super().reset()
        self._whole = 0

    def generate(self, tokens: Sequence[int], *args, reset: bool = True, **kwargs):
        tokens = list(tokens)
        if reset and self.n_tokens > 0:
            # keep only whole chunks: llama-cpp-python's own prefix match then stops there
            keep = reusable(list(self._input_ids), tokens, self._whole, self.n_batch)
            if keep == 0:
                self.reset()
            else:
                self.n_tokens = keep
                self._whole = min(self._whole, keep)
        return super().generate(tokens, *args, reset=reset, **kwargs)

    def eval(self, tokens: Sequence[int]):
        start = self.n_tokens
        self._whole = min(self._whole, start)
        super().eval(tokens)
        if start == self._whole and start % self.n_batch == 0:  # its chunks are the canonical ones
            self._whole = start + len(tokens) - len(tokens) % self.n_batch


def main() -> None:
    from llama_cpp.server.__main__ import main as server_main

    llama_cpp.Llama = ChunkedLlama  # the server's model loader builds `llama_cpp.Llama` by name
    server_main()


if __name__ == "__main__":
    main()
