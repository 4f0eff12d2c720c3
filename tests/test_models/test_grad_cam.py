"""Grad-CAM: a hand-computed map, and the closed form for GAP + linear
heads equals autograd Grad-CAM (values and gradients)."""
import torch

from debiascls.models import GAPLinearHead, ImageClassifier
from debiascls.models.utils import gap_linear_grad_cam, grad_cam


def test_closed_form_by_hand():
    # z: 2 channels on a 1x2 map; W_y = (1, -1)
    feats = torch.tensor([[[[3.0, 1.0]], [[1.0, 2.0]]]])
    weight = torch.tensor([[1.0, -1.0], [0.0, 1.0]])
    labels = torch.tensor([0])
    # W_0 . z_n = 3 - 1 = 2 and 1 - 2 = -1 -> ReLU: (2, 0) -> max-norm (1, 0)
    cam = gap_linear_grad_cam(feats, weight, labels)
    assert cam.tolist() == [[[1.0, 0.0]]]
    raw = gap_linear_grad_cam(feats, weight, labels, normalize=False)
    assert torch.allclose(raw, torch.tensor([[[1.0, 0.0]]]))  # 2 / (h w)


def test_closed_form_equals_autograd_grad_cam_on_a_network():
    torch.manual_seed(0)
    model = ImageClassifier(
        backbone=dict(type='ConvNet', channels=(4, 6)),
        head=dict(type='GAPLinearHead', num_classes=3))
    x = torch.randn(5, 3, 8, 8)
    labels = torch.tensor([0, 1, 2, 1, 0])
    feats = model.extract_feat(x)
    auto = grad_cam(feats, model.head, labels)
    closed = gap_linear_grad_cam(feats, model.head.fc.weight, labels)
    assert auto.shape == (5, 4, 4)
    assert torch.allclose(auto, closed, atol=1e-6)
    # Unnormalised maps differ only by nothing at all: both are ReLU(W.z)/hw.
    assert torch.allclose(
        grad_cam(feats, model.head, labels, normalize=False),
        gap_linear_grad_cam(
            feats, model.head.fc.weight, labels, normalize=False),
        atol=1e-7)


def test_both_forms_are_differentiable_with_the_same_gradient():
    torch.manual_seed(1)
    head = GAPLinearHead(in_channels=4, num_classes=3)
    feats = torch.randn(2, 4, 3, 3).relu().requires_grad_()
    labels = torch.tensor([2, 0])
    auto = grad_cam(feats, head, labels, normalize=False, create_graph=True)
    g_auto, = torch.autograd.grad(auto.sum(), feats)
    closed = gap_linear_grad_cam(feats, head.fc.weight, labels,
                                 normalize=False)
    g_closed, = torch.autograd.grad(closed.sum(), feats)
    assert torch.allclose(g_auto, g_closed, atol=1e-6)
