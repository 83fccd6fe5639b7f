"""Both networks with every activation: shapes, gradients, and that a tiny batch can be overfit."""

import pytest
import torch

from xrdnet.models.activations import ACTIVATIONS, make_activation
from xrdnet.models.cnn1d import CNN1D
from xrdnet.models.mlp import MLP

LENGTH, CLASSES = 256, 7


def build(kind: str, activation: str):
    if kind == "cnn1d":
        return CNN1D(LENGTH, CLASSES, channels=(8, 16), head_length=8, head_hidden=32, activation=activation, dropout=0.0)
    return MLP(LENGTH, CLASSES, hidden=(64, 32), activation=activation)


@pytest.mark.parametrize("kind", ["cnn1d", "mlp"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_forward_backward_shapes(kind, activation):
    torch.manual_seed(0)
    net = build(kind, activation)
    x = torch.rand(5, LENGTH)
    logits = net(x)
    assert logits.shape == (5, CLASSES)
    logits.sum().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("kind", ["cnn1d", "mlp"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_tiny_batch_can_be_overfit(kind, activation):
    torch.manual_seed(0)
    net = build(kind, activation)
    x = torch.rand(14, LENGTH)
    y = torch.arange(14) % CLASSES
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3 if activation == "sigmoid" else 1e-3)
    for _ in range(300):
        loss = torch.nn.functional.cross_entropy(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.eval()
    assert (net(x).argmax(1) == y).all(), f"{kind}/{activation} did not memorise 14 samples (loss {loss.item():.3f})"


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        make_activation("swish")


def test_mlp_output_activation_bounds_output():
    net = MLP(2, 1, hidden=(8,), activation="tanh", output_activation="tanh")
    out = net(torch.randn(100, 2) * 100)
    assert out.abs().max() <= 1.0


def test_autocorrelation_peaks_at_the_offset_between_lines_and_ignores_a_shift():
    from xrdnet.models.cnn1d import autocorrelation

    x = torch.zeros(2, 300)
    x[0, [50, 80]] = 1.0  # two lines 30 points apart ...
    x[1, [150, 180]] = 1.0  # ... the same pair moved along the axis
    pairs = autocorrelation(x, 100)
    assert pairs.shape == (2, 100)
    assert int(pairs[0].argmax()) + 1 == 30 and pairs[0, 29] == pytest.approx(0.5)
    torch.testing.assert_close(pairs[0], pairs[1])


def test_cnn_with_autocorrelation_branch_trains():
    torch.manual_seed(0)
    net = CNN1D(LENGTH, CLASSES, channels=(8, 16), head_length=8, head_hidden=32, dropout=0.0,
                autocorrelation_lags=64, autocorrelation_channels=(8, 8))
    logits = net(torch.rand(4, LENGTH))
    assert logits.shape == (4, CLASSES)
    logits.sum().backward()
    assert all(p.grad is not None for p in net.autocorrelation_features.parameters())


@pytest.mark.parametrize("kind", ["cnn1d", "mlp"])
def test_networks_read_a_feature_vector_beside_the_profile(kind):
    torch.manual_seed(0)
    if kind == "cnn1d":
        net = CNN1D(LENGTH, CLASSES, channels=(8,), head_length=4, head_hidden=16, dropout=0.0,
                    extra_features=5, extra_hidden=(8,))
    else:
        net = MLP(LENGTH, CLASSES, hidden=(16,), extra_features=5)
    x, features = torch.rand(3, LENGTH), torch.rand(3, 5)
    logits = net(x, features)
    assert logits.shape == (3, CLASSES)
    assert not torch.allclose(logits, net(x, features + 1.0))  # the features reach the output
    with pytest.raises(ValueError, match="reads 5 features"):
        net(x)
