"""ZeroRedundancyOptimizer(optimizer_class=optimessay.Adam) under DDP (gloo, 2 local CPU processes)
gives the same parameters as with torch.optim.Adam, bit for bit.

The two ranks are forked from the test process, not spawned: a spawned rank starts a fresh
interpreter that imports torch, torch.distributed and this module again (measured: 8.1 s of CPU for
the test with spawn, 1.2 s forked, the same run otherwise). One process group serves both runs, ours
and torch's. Forking a process that has used OpenMP is safe here for the reason torch's DataLoader
relies on when it forks its workers: each rank sets one intra-op thread before any tensor work, so it
never enters the parent's OpenMP thread pool; and a forked child leaves through `os._exit`, running
none of pytest's exit handlers.

torch.distributed, its optim and DDP are imported by the test (`_distributed()`, before the fork:
the ranks inherit them), not by the module: every xdist worker collects this file, and the imports
cost ~0.3 s of CPU in a process that already built an optimizer (measured)."""

import os
import socket
import warnings

import pytest
import torch

import optimessay

WORLD_SIZE = 2
STEPS = 6


def _distributed():
    """torch.distributed, DistributedDataParallel and ZeroRedundancyOptimizer (imported once)."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    with warnings.catch_warnings():  # importing torch.distributed.optim warns that torch.jit is deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        from torch.distributed.optim import ZeroRedundancyOptimizer
    return dist, DistributedDataParallel, ZeroRedundancyOptimizer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train(optimizer_class) -> list[torch.Tensor]:
    """Each rank: the same seeded model, its own data, ZeRO sharding the optimizer state."""
    dist, DistributedDataParallel, ZeroRedundancyOptimizer = _distributed()
    rank = dist.get_rank()
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3), torch.nn.Linear(3, 1))
    ddp = DistributedDataParallel(model)
    opt = ZeroRedundancyOptimizer(ddp.parameters(), optimizer_class=optimizer_class, lr=0.05, betas=(0.8, 0.95),
                                  weight_decay=0.01, amsgrad=True)
    assert type(opt.optim) is optimizer_class  # the local shard's optimizer is the class given
    gen = torch.Generator().manual_seed(100 + rank)
    for _ in range(STEPS):
        x, y = torch.randn(16, 5, generator=gen), torch.randn(16, 1, generator=gen)
        opt.zero_grad()
        torch.nn.functional.mse_loss(ddp(x), y).backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


def worker(rank: int, port: int, out_dir: str) -> None:
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    torch.set_num_threads(1)
    dist = _distributed()[0]
    dist.init_process_group("gloo", rank=rank, world_size=WORLD_SIZE)
    try:
        results = {name: train(cls) for name, cls in (("ours", optimessay.Adam), ("torch", torch.optim.Adam))}
        torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_zero_redundancy_optimizer_with_our_adam_equals_torchs(tmp_path):
    import torch.multiprocessing as mp

    _distributed()  # in this process, before the fork
    mp.start_processes(worker, args=(free_port(), str(tmp_path)), nprocs=WORLD_SIZE, join=True, start_method="fork")
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(WORLD_SIZE)]
    for result in ranks:
        assert len(result["ours"]) == 6
        for ours, theirs in zip(result["ours"], result["torch"], strict=True):
            assert torch.equal(ours, theirs)
    for a, b in zip(ranks[0]["ours"], ranks[1]["ours"], strict=True):  # ZeRO keeps the replicas in sync
        assert torch.equal(a, b)
    torch.manual_seed(0)
    initial = torch.nn.Linear(5, 8).weight.detach()  # the first layer as train() created it
    assert not torch.equal(ranks[0]["ours"][0], initial)  # training moved it
