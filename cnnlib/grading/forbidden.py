"""Ready-made forbidden lists for "from scratch" questions, shared by every exercise.

``CONVOLUTION`` forbids whatever computes a convolution or its sliding windows for you:
PyTorch's functional and module convolutions, ``unfold`` (tensor and functional), numpy's
``convolve``/``correlate``/``sliding_window_view``, ``scipy.signal`` and ``scipy.ndimage``,
cnnlib's own convolutions, and the back doors to them (``torch.ops``, ``torch._C``,
``torch._VF``, PyTorch's dispatch modes). At run time the operators themselves
(``aten::convolution``, ``im2col``, ``unfold``…) are watched too, however they are reached.
"""

from __future__ import annotations

from .question import FromScratch

__all__ = ["CONVOLUTION", "ESCAPES", "GRADER", "OUTPUT_SIZE", "TAMPERING", "runtime_rules",
           "static_rules"]

_TORCH_CONV = tuple(
    f"torch.nn.functional.{name}" for name in (
        "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
        "conv_transpose3d", "conv_tbc", "unfold", "fold")
) + tuple(
    f"torch.{name}" for name in (
        "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
        "conv_transpose3d", "conv_tbc", "convolution", "_convolution", "cudnn_convolution",
        "mkldnn_convolution")
) + tuple(
    f"torch.nn.{name}" for name in (
        "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
        "LazyConv1d", "LazyConv2d", "LazyConv3d", "Unfold", "Fold")
) + ("torch.nn.modules.conv", "torch.nn.modules.fold", "torch.Tensor.unfold")

_BACK_DOORS = ("torch.ops", "torch._C", "torch._VF", "torch._ops",
               "torch.utils._python_dispatch", "torch.overrides", "torch._refs", "torch._decomp",
               "torch._prims")

_NUMPY_CONV = (
    "numpy.convolve", "numpy.correlate", "numpy.lib.stride_tricks.sliding_window_view",
    "numpy._core.multiarray.correlate", "numpy._core.multiarray.correlate2",
    "numpy.core.multiarray.correlate", "numpy.core.multiarray.correlate2",
    "numpy._core.numeric.convolve", "numpy._core.numeric.correlate",
)

_CNNLIB_CONV = tuple(f"cnnlib.{name}" for name in (
    "conv", "loop_conv", "fft_conv", "im2col", "toeplitz", "matrices", "transposed", "sliding",
    "convolve", "template_matching", "separable", "winograd",
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "toeplitz_matrix",
    "circulant_matrix"))

CONVOLUTION = FromScratch(
    apis=_TORCH_CONV + _BACK_DOORS + _NUMPY_CONV + _CNNLIB_CONV,
    modules=("scipy.signal", "scipy.ndimage", "cnnlib.conv", "cnnlib.loop_conv",
             "cnnlib.fft_conv", "cnnlib.im2col", "cnnlib.toeplitz", "cnnlib.sliding",
             "cnnlib.convolve", "cnnlib.template_matching", "cnnlib.separable",
             "cnnlib.winograd"),
    aten=("conv*", "_conv*", "cudnn_conv*", "miopen_conv*", "mkldnn_conv*", "slow_conv*",
          "thnn_conv*", "_nnpack_spatial_convolution", "_slow_conv*", "im2col", "col2im",
          "unfold"),
)
"""Everything that convolves, correlates or unfolds for you."""

OUTPUT_SIZE = FromScratch(
    apis=("cnnlib.arithmetic", "cnnlib.conv_output_size", "cnnlib.pool_output_size",
          "cnnlib.conv_transpose_output_size"),
    modules=("cnnlib.arithmetic",),
)
"""cnnlib's output-size formulas (what the student is asked to write)."""

ESCAPES = FromScratch(
    apis=("subprocess", "multiprocessing", "concurrent.futures.ProcessPoolExecutor", "pty",
          "posix", "_posixsubprocess",
          "os.system", "os.popen", "os.fork", "os.forkpty", "os.execv", "os.execve",
          "os.execvp", "os.execvpe", "os.execl", "os.execle", "os.execlp", "os.execlpe",
          "os.spawnv", "os.spawnve", "os.spawnvp", "os.spawnvpe", "os.posix_spawn",
          "os.posix_spawnp", "subprocess.Popen", "torch.multiprocessing",
          "torch.jit", "torch.futures", "torch.library"),
)
"""Running code where no guard would watch: starting another process (``subprocess``,
``os.fork``, ``torch.multiprocessing``…), on PyTorch's own threads (``torch.jit.fork``,
``torch.futures`` callbacks) or as a kernel registered in PyTorch's dispatcher
(``torch.library``). Forbidden in every from-scratch answer (added by the grader, not by the
exercise); the ``torch.*`` entries by the static scan only, as PyTorch calls its own
``torch.jit`` helpers from everywhere."""

GRADER = FromScratch(apis=("cnnlib.grading",))
"""The grader's own package (its references, its cases): forbidden in every answer."""

_INTERNALS = ("_child", "_zygote", "guard", "sandbox", "grader", "codec", "scan", "question",
              "exercises", "forbidden", "compare", "report", "authoring", "load_exercise",
              "Question", "Exercise", "FromScratch", "Case", "list_exercises")

TAMPERING = FromScratch(
    apis=("sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile",
          "inspect.currentframe", "inspect.stack", "inspect.trace", "inspect.getouterframes",
          "inspect.getinnerframes", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
          "ctypes", "_ctypes", "cffi", "threading.settrace", "threading.setprofile", "os.dup2",
          *(f"cnnlib.grading.{name}" for name in _INTERNALS)),
    attrs=("f_back", "f_locals", "f_globals", "f_builtins", "tb_frame", "gi_frame", "cr_frame",
           "ag_frame", "__closure__", "_exercise", "hidden_cases", "public_cases"),
)
"""Looking into the grader's own process (its frames, its objects, its internals) from
anywhere in a notebook. The grader cannot vouch for a from-scratch answer next to such code,
so it gives those answers 0 and names what it found; other answers keep their verdicts."""


def static_rules(question) -> FromScratch:
    """What the static scan looks for in a question's code."""
    if question.from_scratch is None:
        return GRADER
    return question.from_scratch.union(ESCAPES).union(GRADER)


def runtime_rules(question) -> FromScratch | None:
    """What the runtime guard refuses while a from-scratch question is evaluated."""
    if question.from_scratch is None:
        return None
    return question.from_scratch.union(ESCAPES)
