"""Wrong answers students write for exercise 07, each labelled with the mistake it makes.

The ``network_cost`` answers compute the shapes themselves: graded beside a wrong
``feature_shapes``, an answer that called it would inherit that answer's slip."""

BANK = {
    "feature_shapes": [
        ("padding ignored", '''
def feature_shapes(input_shape, layers):
    shape = tuple(input_shape)
    shapes = []
    for layer in layers:
        if layer[0] == "conv":
            _, c_out, k, s, p = layer
            n, _, h, w = shape
            shape = (n, c_out, (h - k) // s + 1, (w - k) // s + 1)
        elif layer[0] in ("maxpool", "avgpool"):
            n, c, h, w = shape
            shape = (n, c, h // layer[1], w // layer[1])
        elif layer[0] == "flatten":
            shape = (shape[0], math.prod(shape[1:]))
        elif layer[0] == "linear":
            shape = (shape[0], layer[1])
        shapes.append(shape)
    return shapes
'''),
        ("padding counted once", '''
def feature_shapes(input_shape, layers):
    n, c, h, w = input_shape
    shapes = []
    flat = None
    for layer in layers:
        if layer[0] == "conv":
            c, k, s, p = layer[1:]
            h = (h + p - k) // s + 1
            w = (w + p - k) // s + 1
            shapes.append((n, c, h, w))
        elif layer[0] in ("maxpool", "avgpool"):
            h, w = h // layer[1], w // layer[1]
            shapes.append((n, c, h, w))
        elif layer[0] == "flatten":
            flat = c * h * w
            shapes.append((n, flat))
        elif layer[0] == "linear":
            flat = layer[1]
            shapes.append((n, flat))
        else:
            shapes.append(shapes[-1])
    return shapes
'''),
        ("stride ignored", '''
def feature_shapes(input_shape, layers):
    shape = tuple(input_shape)
    shapes = []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            n, _, h, w = shape
            c_out, k, s, p = layer[1], layer[2], layer[3], layer[4]
            shape = (n, c_out, h + 2 * p - k + 1, w + 2 * p - k + 1)
        elif kind == "maxpool" or kind == "avgpool":
            n, c, h, w = shape
            shape = (n, c, h // layer[1], w // layer[1])
        elif kind == "flatten":
            shape = (shape[0], shape[1] * shape[2] * shape[3])
        elif kind == "linear":
            shape = (shape[0], layer[1])
        shapes.append(shape)
    return shapes
'''),
        ("+1 forgotten", '''
def out_size(n, k, s, p):
    return (n + 2 * p - k) // s


def feature_shapes(input_shape, layers):
    shape = tuple(input_shape)
    shapes = []
    for layer in layers:
        if layer[0] == "conv":
            _, c_out, k, s, p = layer
            shape = (shape[0], c_out, out_size(shape[2], k, s, p), out_size(shape[3], k, s, p))
        elif layer[0] in ("maxpool", "avgpool"):
            shape = (shape[0], shape[1], shape[2] // layer[1], shape[3] // layer[1])
        elif layer[0] == "flatten":
            shape = (shape[0], math.prod(shape[1:]))
        elif layer[0] == "linear":
            shape = (shape[0], layer[1])
        shapes.append(shape)
    return shapes
'''),
        ("pool rounded up", '''
def feature_shapes(input_shape, layers):
    shape = tuple(input_shape)
    shapes = []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            _, c_out, k, s, p = layer
            n, _, h, w = shape
            shape = (n, c_out, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
        elif kind in ("maxpool", "avgpool"):
            k = layer[1]
            n, c, h, w = shape
            shape = (n, c, math.ceil(h / k), math.ceil(w / k))
        elif kind == "flatten":
            shape = (shape[0], math.prod(shape[1:]))
        elif kind == "linear":
            shape = (shape[0], layer[1])
        shapes.append(shape)
    return shapes
'''),
        ("activations left out", '''
def feature_shapes(input_shape, layers):
    shape = tuple(input_shape)
    shapes = []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            _, c_out, k, s, p = layer
            n, _, h, w = shape
            shape = (n, c_out, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
            shapes.append(shape)
        elif kind in ("maxpool", "avgpool"):
            n, c, h, w = shape
            shape = (n, c, h // layer[1], w // layer[1])
            shapes.append(shape)
        elif kind == "flatten":
            shape = (shape[0], math.prod(shape[1:]))
            shapes.append(shape)
        elif kind == "linear":
            shape = (shape[0], layer[1])
            shapes.append(shape)
    return shapes
'''),
        ("batch flattened too", '''
def feature_shapes(input_shape, layers):
    shape = tuple(input_shape)
    shapes = []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            _, c_out, k, s, p = layer
            n, _, h, w = shape
            shape = (n, c_out, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
        elif kind in ("maxpool", "avgpool"):
            n, c, h, w = shape
            shape = (n, c, h // layer[1], w // layer[1])
        elif kind == "flatten":
            shape = (math.prod(shape),)
        elif kind == "linear":
            shape = (shape[0], layer[1])
        shapes.append(shape)
    return shapes
'''),
    ],
    "network_cost": [
        ("biases forgotten", '''
def network_cost(input_shape, layers):
    n, c, h, w = input_shape
    params = macs = 0
    for layer in layers:
        if layer[0] == "conv":
            _, c_out, k, s, p = layer
            h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            params += c_out * c * k * k
            macs += n * c_out * h * w * c * k * k
            c = c_out
        elif layer[0] in ("maxpool", "avgpool"):
            h, w = h // layer[1], w // layer[1]
        elif layer[0] == "flatten":
            c, h, w = c * h * w, 1, 1
        elif layer[0] == "linear":
            params += c * layer[1]
            macs += n * c * layer[1]
            c = layer[1]
    return params, macs
'''),
        ("MACs of one image", '''
def network_cost(input_shape, layers):
    _, c, h, w = input_shape
    params = macs = 0
    for layer in layers:
        if layer[0] == "conv":
            _, c_out, k, s, p = layer
            h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            params += c_out * c * k * k + c_out
            macs += c_out * h * w * c * k * k
            c = c_out
        elif layer[0] in ("maxpool", "avgpool"):
            h, w = h // layer[1], w // layer[1]
        elif layer[0] == "flatten":
            c, h, w = c * h * w, 1, 1
        elif layer[0] == "linear":
            params += c * layer[1] + layer[1]
            macs += c * layer[1]
            c = layer[1]
    return params, macs
'''),
        ("MACs counted on the input size", '''
def network_cost(input_shape, layers):
    n, c, h, w = input_shape
    params = macs = 0
    for layer in layers:
        if layer[0] == "conv":
            _, c_out, k, s, p = layer
            params += c_out * c * k * k + c_out
            macs += n * c_out * h * w * c * k * k
            h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            c = c_out
        elif layer[0] in ("maxpool", "avgpool"):
            h, w = h // layer[1], w // layer[1]
        elif layer[0] == "flatten":
            c, h, w = c * h * w, 1, 1
        elif layer[0] == "linear":
            params += c * layer[1] + layer[1]
            macs += n * c * layer[1]
            c = layer[1]
    return params, macs
'''),
        ("k instead of k²", '''
def network_cost(input_shape, layers):
    n, c, h, w = input_shape
    params = macs = 0
    for layer in layers:
        if layer[0] == "conv":
            _, c_out, k, s, p = layer
            h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            weights = c_out * c * k
            params += weights + c_out
            macs += n * h * w * weights
            c = c_out
        elif layer[0] in ("maxpool", "avgpool"):
            h, w = h // layer[1], w // layer[1]
        elif layer[0] == "flatten":
            c, h, w = c * h * w, 1, 1
        elif layer[0] == "linear":
            params += c * layer[1] + layer[1]
            macs += n * c * layer[1]
            c = layer[1]
    return params, macs
'''),
        ("input channels left out", '''
def network_cost(input_shape, layers):
    n, c, h, w = input_shape
    params = macs = 0
    for layer in layers:
        if layer[0] == "conv":
            _, c_out, k, s, p = layer
            h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            params += c_out * k * k + c_out
            macs += n * c_out * h * w * k * k
            c = c_out
        elif layer[0] in ("maxpool", "avgpool"):
            h, w = h // layer[1], w // layer[1]
        elif layer[0] == "flatten":
            c, h, w = c * h * w, 1, 1
        elif layer[0] == "linear":
            params += c * layer[1] + layer[1]
            macs += n * c * layer[1]
            c = layer[1]
    return params, macs
'''),
        ("conv weights used once per image", '''
def network_cost(input_shape, layers):
    n, c, h, w = input_shape
    params = macs = 0
    for layer in layers:
        if layer[0] == "conv":
            _, c_out, k, s, p = layer
            h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            weights = c_out * c * k * k
            params += weights + c_out
            macs += n * weights
            c = c_out
        elif layer[0] in ("maxpool", "avgpool"):
            h, w = h // layer[1], w // layer[1]
        elif layer[0] == "flatten":
            c, h, w = c * h * w, 1, 1
        elif layer[0] == "linear":
            weights = c * layer[1]
            params += weights + layer[1]
            macs += n * weights
            c = layer[1]
    return params, macs
'''),
    ],
    "lenet5_logits": [
        ("max pooling instead of average", '''
class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Tanh(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
            nn.Linear(84, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
'''),
        ("ReLU instead of tanh", '''
class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, 10),
        )

    def forward(self, x):
        return self.net(x)
'''),
        ("tanh after the last layer", '''
class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        self.pool = nn.AvgPool2d(2)

    def forward(self, x):
        x = self.pool(torch.tanh(self.conv1(x)))
        x = self.pool(torch.tanh(self.conv2(x)))
        x = x.flatten(1)
        x = torch.tanh(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return torch.tanh(self.fc3(x))
'''),
        ("classifier activations forgotten", '''
class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), nn.Tanh(), nn.AvgPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Linear(120, 84), nn.Linear(84, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
'''),
        ("pooling before the activation", '''
class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.AvgPool2d(2), nn.Tanh(),
            nn.Conv2d(6, 16, kernel_size=5), nn.AvgPool2d(2), nn.Tanh(),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.Tanh(),
            nn.Linear(120, 84), nn.Tanh(),
            nn.Linear(84, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
'''),
    ],
    "conv2d_backward": [
        ("kernel not rotated in ∂L/∂x", '''
def conv2d_backward(x, w, grad_y, stride):
    # ∂L/∂x as the full correlation of the spread ∂L/∂y with w, forgetting the 180° turn
    c_out, c_in, k, _ = w.shape
    _, h_out, w_out = grad_y.shape
    spread = torch.zeros(c_out, (h_out - 1) * stride + 1, (w_out - 1) * stride + 1)
    spread[:, ::stride, ::stride] = grad_y
    padded = torch.zeros(c_out, spread.shape[1] + 2 * (k - 1), spread.shape[2] + 2 * (k - 1))
    padded[:, k - 1:k - 1 + spread.shape[1], k - 1:k - 1 + spread.shape[2]] = spread
    grad_x = torch.zeros_like(x)
    rows = min(x.shape[1], padded.shape[1] - k + 1)
    cols = min(x.shape[2], padded.shape[2] - k + 1)
    for a in range(rows):
        for b in range(cols):
            grad_x[:, a, b] = torch.einsum("ouv,ocuv->c", padded[:, a:a + k, b:b + k], w)
    grad_w = torch.zeros_like(w)
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, i * stride:i * stride + k, j * stride:j * stride + k]
            grad_w += grad_y[:, i, j, None, None, None] * window[None]
    return grad_x, grad_w
'''),
        ("valid instead of full correlation in ∂L/∂x", '''
def conv2d_backward(x, w, grad_y, stride):
    # the spread ∂L/∂y correlated with the rotated kernel, but without padding it first
    c_out, c_in, k, _ = w.shape
    _, h_out, w_out = grad_y.shape
    spread = torch.zeros(c_out, (h_out - 1) * stride + 1, (w_out - 1) * stride + 1)
    spread[:, ::stride, ::stride] = grad_y
    rotated = w.flip(-2, -1)
    grad_x = torch.zeros(c_in, spread.shape[1] - k + 1, spread.shape[2] - k + 1)
    for a in range(grad_x.shape[1]):
        for b in range(grad_x.shape[2]):
            grad_x[:, a, b] = torch.einsum("ouv,ocuv->c", spread[:, a:a + k, b:b + k], rotated)
    grad_w = torch.zeros_like(w)
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, i * stride:i * stride + k, j * stride:j * stride + k]
            grad_w += grad_y[:, i, j, None, None, None] * window[None]
    return grad_x, grad_w
'''),
        ("∂L/∂w rotated", '''
def conv2d_backward(x, w, grad_y, stride):
    k = w.shape[-1]
    _, h_out, w_out = grad_y.shape
    grad_x = torch.zeros_like(x)
    grad_w = torch.zeros_like(w)
    for i in range(h_out):
        for j in range(w_out):
            r, c = i * stride, j * stride
            grad_x[:, r:r + k, c:c + k] += torch.einsum("o,ocuv->cuv", grad_y[:, i, j], w)
            window = x[:, r:r + k, c:c + k].flip(-2, -1)  # a convolution, not a correlation
            grad_w += grad_y[:, i, j, None, None, None] * window[None]
    return grad_x, grad_w
'''),
        ("∂L/∂w with its channel axes swapped", '''
def conv2d_backward(x, w, grad_y, stride):
    c_out, c_in, k, _ = w.shape
    _, h_out, w_out = grad_y.shape
    grad_x = torch.zeros_like(x)
    grad_w = torch.zeros(c_in, c_out, k, k)  # the batch-as-channels trick, not turned back
    for i in range(h_out):
        for j in range(w_out):
            r, c = i * stride, j * stride
            grad_x[:, r:r + k, c:c + k] += torch.einsum("o,ocuv->cuv", grad_y[:, i, j], w)
            grad_w += torch.einsum("cuv,o->couv", x[:, r:r + k, c:c + k], grad_y[:, i, j])
    return grad_x, grad_w
'''),
        ("stride forgotten", '''
def conv2d_backward(x, w, grad_y, stride):
    k = w.shape[-1]
    _, h_out, w_out = grad_y.shape
    grad_x = torch.zeros_like(x)
    grad_w = torch.zeros_like(w)
    for i in range(h_out):
        for j in range(w_out):
            grad_x[:, i:i + k, j:j + k] += torch.einsum("o,ocuv->cuv", grad_y[:, i, j], w)
            grad_w += grad_y[:, i, j, None, None, None] * x[None, :, i:i + k, j:j + k]
    return grad_x, grad_w
'''),
        ("input rows the stride skipped dropped", '''
def conv2d_backward(x, w, grad_y, stride):
    c_out, c_in, k, _ = w.shape
    _, h_out, w_out = grad_y.shape
    # the size the transposed convolution reaches, without the output_padding remainder
    grad_x = torch.zeros(c_in, (h_out - 1) * stride + k, (w_out - 1) * stride + k)
    grad_w = torch.zeros_like(w)
    for i in range(h_out):
        for j in range(w_out):
            r, c = i * stride, j * stride
            grad_x[:, r:r + k, c:c + k] += torch.einsum("o,ocuv->cuv", grad_y[:, i, j], w)
            grad_w += grad_y[:, i, j, None, None, None] * x[None, :, r:r + k, c:c + k]
    return grad_x, grad_w
'''),
    ],
}
