"""Wrong answers students write for exercise 08, each labelled with the mistake it makes.

The ``vgg_features`` answers are the student's ``make_vgg_layers``: the notebook's given
``vgg_features`` builds it, loads the check's parameters and runs it."""

BANK = {
    "stack_versus_single": [
        ("receptive field n·k", '''
def stack_versus_single(n, k, c):
    r = n * k
    return r, n * c * c * k * k, c * c * r * r
'''),
        ("started from 0", '''
def stack_versus_single(n, k, c):
    r = 0
    for _ in range(n):
        r += k - 1
    stack = n * (c * c * k * k)
    single = c * c * r * r
    return r, stack, single
'''),
        ("receptive fields multiplied", '''
def stack_versus_single(n, k, c):
    r = 1
    for _ in range(n):
        r *= k
    return r, n * c * c * k * k, c * c * r * r
'''),
        ("channels counted once", '''
def stack_versus_single(n, k, c):
    r = 1 + n * (k - 1)
    return r, n * c * k * k, c * r * r
'''),
        ("one layer of the stack counted", '''
def stack_versus_single(n, k, c):
    r = 1 + n * (k - 1)
    weights_stack = c * c * k * k
    weights_single = c * c * r ** 2
    return r, weights_stack, weights_single
'''),
        ("biases counted", '''
def stack_versus_single(n, k, c):
    r = 1 + n * (k - 1)
    layer = c * c * k * k + c
    return r, n * layer, c * c * r * r + c
'''),
    ],
    "vgg_features": [
        ("ReLU forgotten", '''
def make_vgg_layers(config, in_channels):
    layers = []
    channels = in_channels
    for entry in config:
        if entry == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(channels, entry, kernel_size=3, padding=1))
            channels = entry
    return nn.Sequential(*layers)
'''),
        ("padding forgotten", '''
def make_vgg_layers(config, in_channels):
    layers = []
    channels = in_channels
    for entry in config:
        if entry == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, entry, 3), nn.ReLU()]
            channels = entry
    return nn.Sequential(*layers)
'''),
        ("average pooling instead of max", '''
def make_vgg_layers(config, in_channels):
    layers = []
    channels = in_channels
    for entry in config:
        if entry == "M":
            layers.append(nn.AvgPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(channels, entry, kernel_size=3, padding=1))
            layers.append(nn.ReLU(inplace=True))
            channels = entry
    return nn.Sequential(*layers)
'''),
        ("ReLU before the convolution", '''
def make_vgg_layers(config, in_channels):
    layers = []
    channels = in_channels
    for entry in config:
        if entry == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.ReLU())
            layers.append(nn.Conv2d(channels, entry, kernel_size=3, padding=1))
            channels = entry
    return nn.Sequential(*layers)
'''),
        ("channels not updated", '''
def make_vgg_layers(config, in_channels):
    layers = []
    for entry in config:
        if entry == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(in_channels, entry, kernel_size=3, padding=1))
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)
'''),
    ],
    "vgg_parameters": [
        ("biases forgotten", '''
def vgg_parameters(config, in_channels, num_classes):
    features = 0
    channels = in_channels
    for entry in config:
        if entry != "M":
            features += channels * entry * 3 * 3
            channels = entry
    flat = channels * 7 * 7
    classifier = flat * 4096 + 4096 * 4096 + 4096 * num_classes
    return features, classifier
'''),
        ("7 × 7 forgotten", '''
def vgg_parameters(config, in_channels, num_classes):
    features = 0
    channels = in_channels
    for entry in config:
        if entry == "M":
            continue
        features += channels * entry * 9 + entry
        channels = entry
    sizes = [channels, 4096, 4096, num_classes]
    classifier = 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        classifier += a * b + b
    return features, classifier
'''),
        ("channels not updated", '''
def vgg_parameters(config, in_channels, num_classes):
    convs = [entry for entry in config if entry != "M"]
    features = sum(in_channels * c * 9 + c for c in convs)
    flat = in_channels * 7 * 7
    classifier = (flat * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * num_classes + num_classes)
    return features, classifier
'''),
        ("3 instead of 3 × 3", '''
def vgg_parameters(config, in_channels, num_classes):
    features = 0
    channels = in_channels
    for entry in config:
        if entry != "M":
            features += channels * entry * 3 + entry
            channels = entry
    flat = channels * 7 * 7
    classifier = ((flat * 4096 + 4096) + (4096 * 4096 + 4096)
                  + (4096 * num_classes + num_classes))
    return features, classifier
'''),
        ("a hidden dense layer forgotten", '''
def vgg_parameters(config, in_channels, num_classes):
    features = 0
    channels = in_channels
    for entry in config:
        if entry != "M":
            features += channels * entry * 3 * 3 + entry
            channels = entry
    flat = channels * 7 * 7
    classifier = (flat * 4096 + 4096) + (4096 * num_classes + num_classes)
    return features, classifier
'''),
    ],
    "vgg_layer_costs": [
        ("pooling ignored", '''
def vgg_layer_costs(config, in_channels, size):
    costs = []
    channels = in_channels
    for entry in config:
        if entry != "M":
            costs.append((size * size * entry * channels * 9, entry * size * size))
            channels = entry
    return costs
'''),
        ("pool rounded up", '''
import math


def vgg_layer_costs(config, in_channels, size):
    costs = []
    channels, side = in_channels, size
    for entry in config:
        if entry == "M":
            side = math.ceil(side / 2)
        else:
            costs.append((side * side * entry * channels * 9, entry * side * side))
            channels = entry
    return costs
'''),
        ("channels not updated", '''
def vgg_layer_costs(config, in_channels, size):
    costs = []
    side = size
    for entry in config:
        if entry == "M":
            side //= 2
        else:
            costs.append((side * side * entry * in_channels * 9, entry * side * side))
    return costs
'''),
        ("3 instead of 3 × 3", '''
def vgg_layer_costs(config, in_channels, size):
    costs = []
    channels, side = in_channels, size
    for entry in config:
        if entry == "M":
            side //= 2
        else:
            costs.append((side * side * entry * channels * 3, entry * side * side))
            channels = entry
    return costs
'''),
        ("input channels left out of the MACs", '''
def vgg_layer_costs(config, in_channels, size):
    costs = []
    channels, side = in_channels, size
    for entry in config:
        if entry == "M":
            side = side // 2
        else:
            values = entry * side * side
            costs.append((values * 9, values))
            channels = entry
    return costs
'''),
        ("output channels left out of the values", '''
def vgg_layer_costs(config, in_channels, size):
    costs = []
    channels, side = in_channels, size
    for entry in config:
        if entry == "M":
            side //= 2
        else:
            costs.append((side * side * entry * channels * 9, side * side))
            channels = entry
    return costs
'''),
    ],
}
