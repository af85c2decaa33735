"""A multi-process training run for olc to drive: PyTorch DistributedDataParallel
on the CPU (gloo), launched by torchrun, one study trial per launch.

olc is the study, the framework is the trainer: olc passes the parameters on
the command line, torchrun starts the processes, and rank 0 prints what olc
reads, one JSON object per line on stdout:
    {"step": 3, "val_loss": 0.41}     an intermediate value (each epoch)
    {"val_loss": 0.38, "epochs": 8}   the result (the last JSON line)
The other ranks print nothing on stdout. A failure anywhere makes torchrun
exit non-zero, and olc records the trial as failed with the log's tail.

The task: regress a fixed random two-layer network's output from 16 inputs,
on a synthetic data set shared by every rank (each trains on its shard).
"""
import argparse
import json
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def data(seed, n):
    # The function to learn is the same for every set; the points are not.
    f = torch.Generator().manual_seed(0)
    w1, w2 = torch.randn(16, 32, generator=f) / 4, torch.randn(32, 1, generator=f) / 4
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 16, generator=g)
    y = torch.tanh(x @ w1) @ w2 + 0.05 * torch.randn(n, 1, generator=g)
    return TensorDataset(x, y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--hidden", type=int, required=True)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)

    train, val = data(1, 2048), data(2, 512)
    sampler = DistributedSampler(train, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(train, batch_size=64, sampler=sampler)
    model = DistributedDataParallel(torch.nn.Sequential(
        torch.nn.Linear(16, args.hidden), torch.nn.ReLU(), torch.nn.Linear(args.hidden, 1)))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.MSELoss()

    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)
        model.train()
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        # Each rank scores its half of the validation set; the sums meet.
        model.eval()
        xs, ys = val.tensors[0][rank::world], val.tensors[1][rank::world]
        with torch.no_grad():
            part = torch.tensor([loss_fn(model(xs), ys).item() * len(xs), float(len(xs))])
        dist.all_reduce(part)
        val_loss = (part[0] / part[1]).item()
        if rank == 0:
            print(json.dumps({"step": epoch, "val_loss": val_loss}), flush=True)
    if rank == 0:
        print(json.dumps({"val_loss": val_loss, "epochs": args.epochs, "world_size": world}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
