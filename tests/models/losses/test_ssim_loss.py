"""SSIMLoss: kornia's SSIM, optionally at a coarser scale."""
import torch


def test_ssim_loss_full_and_downsampled_scale():
    import torch.nn.functional as F
    from kornia.metrics import ssim

    from mtlunder.models.losses import SSIMLoss

    gen = torch.Generator().manual_seed(0)
    pred = torch.rand(2, 3, 30, 34, generator=gen)
    target = (pred + 0.2 * torch.randn(2, 3, 30, 34, generator=gen)).clamp(0, 1)
    full = SSIMLoss()(pred, target)
    torch.testing.assert_close(full, 1 - ssim(pred, target, 11, padding='same').mean())
    coarse = SSIMLoss(downsample=2, loss_weight=0.5)(pred, target)
    expected = 1 - ssim(F.avg_pool2d(pred, 2), F.avg_pool2d(target, 2), 11,
                        padding='same').mean()
    torch.testing.assert_close(coarse, 0.5 * expected)
    assert not torch.isclose(coarse * 2, full)  # a different scale, not the same number
    assert float(SSIMLoss(downsample=2)(pred, pred)) < 1e-6
