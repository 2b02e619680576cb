"""Every forbidden list of the "from scratch" questions: the exercises take theirs from here.

``CONVOLUTION`` forbids whatever computes a convolution or its sliding windows for you:
PyTorch's functional and module convolutions, ``unfold`` (tensor and functional), numpy's
``convolve``/``correlate``/``sliding_window_view``, ``scipy.signal`` and ``scipy.ndimage``,
cnnlib's own convolutions, and the back doors to them (``torch.ops``, ``torch._C``,
``torch._VF``, PyTorch's dispatch modes). At run time the operators themselves
(``aten::convolution``, ``im2col``, ``unfold``…) are watched too, however they are reached.
"""

from __future__ import annotations

from .question import FromScratch

__all__ = ["ANTI_ALIASING", "AUTOGRAD", "CONV2D", "CONVOLUTION", "COST_COUNTING",
           "DENSE_COUNTING", "EIGEN", "EQUIVARIANCE", "ESCAPES", "GRADER", "LAYER_COUNTING",
           "LINEAR_SOLVE", "MATRICES", "MODELS", "OUTPUT_SIZE", "POOLING", "RECEPTIVE_FIELD",
           "SHAPES", "STACK", "TAMPERING", "TRAINING", "TRANSLATION", "WINOGRAD", "runtime_rules",
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


# --- the exercises' own lists ----------------------------------------------------------------
# Whole cnnlib modules are forbidden by prefix in ``apis`` (what the static scan reads) and, for
# the runtime guard, either as ``modules`` (every function the module defines gets a tripwire)
# or function by function.

_EQUIVARIANCE_FUNCTIONS = ("translate", "equivariance_gap", "equivariance_error",
                           "invariance_error", "interior", "pixel_permutation", "permute_pixels",
                           "permute_input_weights")

EQUIVARIANCE = FromScratch(
    apis=("cnnlib.equivariance",
          *(f"cnnlib.equivariance.{name}" for name in _EQUIVARIANCE_FUNCTIONS)),
)
"""cnnlib's translation operator, equivariance measures and pixel permutations (exercise 01)."""

TRANSLATION = FromScratch(
    apis=("torch.roll", "torch.Tensor.roll", "numpy.roll", "cnnlib.matrices",
          "cnnlib.shift_matrix", "cnnlib.circulant_matrix"),
    modules=("cnnlib.matrices",),
    aten=("roll",),
).union(EQUIVARIANCE)
"""Everything that translates a tensor for you (``torch.roll``, cnnlib's ``translate`` and
shift matrices; exercise 01)."""

DENSE_COUNTING = FromScratch(
    apis=("torch.nn.Linear", "torch.nn.LazyLinear", "torch.nn.Bilinear",
          "torch.nn.modules.linear", "cnnlib.counting",
          *(f"{where}.{name}" for where in ("cnnlib", "cnnlib.counting")
            for name in ("count_parameters", "layer_summary", "count_macs", "count_flops"))),
)
"""Building the dense layer and counting its parameters (exercise 01 asks for the formula)."""

MATRICES = FromScratch(
    apis=("cnnlib.matrices", "cnnlib.toeplitz", "cnnlib.toeplitz_matrix",
          "cnnlib.circulant_matrix", "cnnlib.shift_matrix", "cnnlib.circular_flip",
          "cnnlib.impulse_response", "cnnlib.dft_matrix", "cnnlib.viz"),
    modules=("cnnlib.matrices", "cnnlib.toeplitz", "cnnlib.viz.explorers.matrices",
             "scipy.linalg"),
).union(CONVOLUTION)
"""Everything that builds the matrices of exercise 03 for you (cnnlib's, ``scipy.linalg``'s
``toeplitz`` and ``circulant``), and every convolution."""

CONV2D = CONVOLUTION.union(FromScratch(
    apis=("cnnlib.convolve", "cnnlib.convolve1d", "cnnlib.convolve2d",
          "cnnlib.template_matching", "cnnlib.separable", "cnnlib.viz",
          "cnnlib.separable.separable_conv2d", "cnnlib.separable.DepthwiseSeparableConv2d",
          "cnnlib.DepthwiseSeparableConv2d"),
    modules=("cnnlib.convolve", "cnnlib.template_matching"),
))
"""Every convolution, including cnnlib's true convolution (``convolve2d``), its template
matching scores and its separable convolutions (exercise 04). ``cnnlib.separable`` is forbidden
function by function: it defines the allowed helpers of other chapters too."""

LAYER_COUNTING = FromScratch(
    apis=("cnnlib.counting", "cnnlib.separable", "cnnlib.count_parameters",
          "cnnlib.count_macs", "cnnlib.count_flops", "cnnlib.layer_summary",
          "torch.nn.Conv2d", "torch.nn.modules.conv", "cnnlib.network_costs"),
    modules=("cnnlib.counting", "cnnlib.separable", "cnnlib.network_costs"),
)
"""Building a layer and counting its parameters, or a network's costs layer by layer
(exercise 05 asks for the formula; exercises 07 and 08 reuse it)."""

RECEPTIVE_FIELD = FromScratch(
    apis=("cnnlib.receptive_field", "cnnlib.empirical_receptive_field"),
    modules=("cnnlib.receptive_field",),
)
"""cnnlib's receptive-field calculator (what exercises 05 and 06 ask the student to write)."""

_DIMS = ("1d", "2d", "3d")
POOLING = FromScratch(
    apis=(
        *(f"torch.nn.functional.{kind}_pool{d}" for kind in ("max", "avg", "lp") for d in _DIMS),
        *(f"torch.nn.functional.max_pool{d}_with_indices" for d in _DIMS),
        *(f"torch.nn.functional.adaptive_{kind}_pool{d}" for kind in ("max", "avg")
          for d in _DIMS),
        *(f"torch.nn.functional.adaptive_max_pool{d}_with_indices" for d in _DIMS),
        *(f"torch.nn.functional.fractional_max_pool{d}" for d in ("2d", "3d")),
        *(f"torch.nn.functional.max_unpool{d}" for d in _DIMS),
        "torch.max_pool1d", "torch.max_pool2d", "torch.max_pool3d", "torch.avg_pool1d",
        "torch.max_pool1d_with_indices", "torch.adaptive_avg_pool1d",
        "torch.adaptive_max_pool1d", "torch.quantized_max_pool1d", "torch.quantized_max_pool2d",
        "torch.quantized_max_pool3d", "torch.mkldnn_max_pool2d", "torch.mkldnn_max_pool3d",
        *(f"torch.nn.{kind}Pool{d}" for kind in ("Max", "Avg", "LP", "AdaptiveMax",
                                                 "AdaptiveAvg", "FractionalMax")
          for d in _DIMS if f"{kind}{d}" != "FractionalMax1d"),
        *(f"torch.nn.MaxUnpool{d}" for d in _DIMS),
        "torch.nn.modules.pooling",
        "cnnlib.pooling", "cnnlib.invariance_measures", "cnnlib.viz",
        *(f"cnnlib.{name}" for name in (
            "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "lp_pool1d", "lp_pool2d",
            "global_avg_pool2d", "global_max_pool2d", "invariance_measures.blur_pool2d",
            "invariance_measures.max_blur_pool2d")),
    ),
    modules=("cnnlib.pooling", "cnnlib.invariance_measures", "cnnlib.viz.explorers.pooling"),
    aten=("max_pool*", "avg_pool*", "adaptive_max_pool*", "adaptive_avg_pool*",
          "_adaptive_avg_pool*", "fractional_max_pool*", "mkldnn_max_pool*",
          "mkldnn_adaptive_avg_pool*", "quantized_max_pool*", "max_unpool*"),
).union(CONVOLUTION)
"""Everything that pools (or convolves, or cuts sliding windows) for you (exercise 06)."""

MODELS = FromScratch(
    apis=("cnnlib.models", "cnnlib.models.LeNet", "cnnlib.models.LeNet5", "cnnlib.models.MLP",
          "cnnlib.models.VGG", "cnnlib.models.vgg", "cnnlib.models.vgg_layers",
          "cnnlib.models.small_vgg", "cnnlib.LeNet", "cnnlib.LeNet5", "cnnlib.MLP",
          "cnnlib.VGG", "cnnlib.vgg", "cnnlib.vgg_layers", "cnnlib.small_vgg"),
    # torchvision.models is forbidden as a module only: listing it among the APIs would make
    # every check import torchvision (seconds) just to guard it.
    modules=("cnnlib.models", "torchvision.models"),
)
"""The networks ready-made: cnnlib's LeNets, MLP and VGGs, and torchvision's models
(exercises 07 and 08)."""

SHAPES = CONVOLUTION.union(POOLING).union(OUTPUT_SIZE).union(LAYER_COUNTING).union(MODELS).union(
    FromScratch(apis=("torch.nn.Linear", "torch.nn.LazyLinear", "torch.nn.Bilinear",
                      "torch.nn.modules.linear", "torch.nn.functional.linear")))
"""Running or counting the network for you: its layers, cnnlib's counting and size formulas
(exercises 07 and 08)."""

STACK = RECEPTIVE_FIELD.union(LAYER_COUNTING).union(CONVOLUTION).union(MODELS)
"""Measuring a stack of layers for you: cnnlib's receptive field and counting, real conv layers
(exercise 08)."""

COST_COUNTING = FromScratch(
    apis=("cnnlib.counting", "cnnlib.count_flops", "cnnlib.count_macs", "cnnlib.layer_summary",
          "cnnlib.performance", "cnnlib.viz", "cnnlib.benchmark", "torch.utils.flop_counter"),
    modules=("cnnlib.counting", "cnnlib.performance", "cnnlib.viz.explorers.computing",
             "cnnlib.benchmark", "torch.utils.flop_counter", "thop", "fvcore", "ptflops"),
).union(OUTPUT_SIZE).union(CONVOLUTION)
"""cnnlib's and PyTorch's counters of FLOPs and bytes, the output-size formulas, and every
convolution (a convolution run on meta tensors would tell the output size; exercise 09)."""

WINOGRAD = FromScratch(apis=("cnnlib.winograd",), modules=("cnnlib.winograd",))
"""cnnlib's Winograd transforms (what exercise 09 asks the student to write)."""

EIGEN = FromScratch(
    apis=("torch.linalg.eig", "torch.linalg.eigvals", "torch.linalg.eigh",
          "torch.linalg.eigvalsh", "torch.lobpcg", "numpy.linalg.eig", "numpy.linalg.eigvals",
          "numpy.linalg.eigh", "numpy.linalg.eigvalsh", "scipy.linalg"),
    modules=("scipy.linalg",),
    aten=("linalg_eig*", "_linalg_eig*"),
)
"""Every eigen-decomposition (exercise 03 asks for the eigenvalues of a circulant from the DFT
of its first column)."""

LINEAR_SOLVE = FromScratch(
    apis=(*(f"torch.linalg.{name}" for name in (
              "solve", "solve_ex", "inv", "inv_ex", "lstsq", "pinv", "tensorsolve", "tensorinv",
              "solve_triangular", "lu_solve")),
          *(f"torch.{name}" for name in (
              "inverse", "pinverse", "cholesky_solve", "cholesky_inverse", "triangular_solve",
              "lu_solve")),
          *(f"torch.Tensor.{name}" for name in (
              "inverse", "pinverse", "cholesky_solve", "cholesky_inverse", "triangular_solve",
              "lu_solve")),
          *(f"numpy.linalg.{name}" for name in (
              "solve", "inv", "lstsq", "pinv", "tensorsolve", "tensorinv")),
          "scipy.linalg"),
    modules=("scipy.linalg",),
    aten=("linalg_solve*", "_linalg_solve*", "linalg_inv*", "inverse", "linalg_lstsq",
          "linalg_pinv*", "pinverse", "linalg_lu_solve", "lu_solve", "cholesky_solve",
          "_cholesky_solve*", "cholesky_inverse", "triangular_solve", "linalg_solve_triangular",
          "linalg_tensorsolve", "linalg_tensorinv"),
).union(EIGEN).union(MATRICES)
"""Solving or inverting a matrix for you, every eigen-decomposition, and everything that builds
a circulant (exercise 03 asks to undo a circular convolution by dividing its DFT)."""

ANTI_ALIASING = FromScratch(
    apis=("cnnlib.invariance_measures", "cnnlib.invariance_measures.blur_pool2d",
          "cnnlib.invariance_measures.max_blur_pool2d"),
    modules=("cnnlib.invariance_measures",),
)
"""The chapter's own anti-aliased pooling (exercise 06 asks for a blur-then-subsample
downsampler)."""

AUTOGRAD = FromScratch(
    apis=("torch.autograd.grad", "torch.autograd.backward", "torch.autograd.functional",
          "torch.autograd.forward_ad", "torch.autograd.Function", "torch.autograd.function",
          "torch.Tensor.backward", "torch.func", "functorch", "cnnlib.backprop",
          "cnnlib.conv2d_backward", "cnnlib.conv1d_backward",
          "cnnlib.backprop.conv2d_backward", "cnnlib.backprop.conv1d_backward"),
    modules=("cnnlib.backprop",),
)
"""Autograd (``torch.autograd.grad``, ``Tensor.backward``, ``torch.func``…) and cnnlib's own
``conv2d_backward``: what computes the gradients for you."""

TRAINING = FromScratch(
    apis=("cnnlib.training", "cnnlib.fit", "cnnlib.checkpoint", "cnnlib.checkpoint.fit_or_load",
          "cnnlib.datasets", "cnnlib.load_mnist", "cnnlib.mnist_tensors",
          "cnnlib.datasets.mnist_split", "torch.load", "torch.hub"),
    modules=("cnnlib.training", "cnnlib.checkpoint", "cnnlib.datasets", "torchvision.datasets"),
)
"""What the training question forbids: cnnlib's ready-made trainer and its cache of trained
models (``fit``, ``fit_or_load``), loading weights or data from files or the network
(``torch.load``, ``torch.hub``, cnnlib's and torchvision's data sets). The loop, the loss and
the optimiser (``torch.nn``, ``torch.optim``) are the student's to write."""


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
