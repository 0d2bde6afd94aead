#!/usr/bin/env python3
"""CPU time (user + system, in 1/100 s) of the AppHost and every process under it, summed per resource.

usage: cpu.py APPHOST_PID            prints "resource ticks" lines
       cpu.py --diff BEFORE AFTER N  prints a Markdown row set: CPU ms per order per resource, for N orders
Processes are named by their OTEL_SERVICE_NAME (the AppHost sets it for projects), else by the assembly a dotnet
process runs (Shop.AppHost, Shop.Dashboard), else by their command (postgres backends, redis-server). A process's
reaped children count toward it: a PostgreSQL backend that closes between the two readings stays in the total through
the postmaster.
"""
import os
import sys


def snapshot(root):
    children, ticks, names = {}, {}, {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f'/proc/{pid}/stat') as f:
                stat = f.read()
            fields = stat.rsplit(')', 1)[1].split()
            children.setdefault(int(fields[1]), []).append(pid)
            # Its own time and that of the children it has reaped (PostgreSQL's postmaster reaps the backends that
            # close), so that a process ending between two readings does not take its CPU out of the total.
            ticks[pid] = sum(int(field) for field in fields[11:15])
            names[pid] = stat[stat.index('(') + 1:stat.rindex(')')]
            if names[pid] == 'dotnet':
                # The AppHost and the dashboard have no service name: call them by the assembly they run.
                with open(f'/proc/{pid}/cmdline', 'rb') as f:
                    assemblies = [a for a in f.read().split(b'\0') if a.endswith(b'.dll')]
                if assemblies:
                    names[pid] = os.path.basename(assemblies[0].decode())[:-len('.dll')]
            with open(f'/proc/{pid}/environ', 'rb') as f:
                for variable in f.read().split(b'\0'):
                    if variable.startswith(b'OTEL_SERVICE_NAME='):
                        names[pid] = variable.split(b'=', 1)[1].decode()
        except (OSError, IndexError, ValueError):
            continue
    # The AppHost itself counts too: it reads every resource's output and watches their health.
    totals, stack = {}, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        if pid in ticks:
            totals[names[pid]] = totals.get(names[pid], 0) + ticks[pid]
    return totals


if sys.argv[1] == '--diff':
    def read(path):
        with open(path) as f:
            return {name: int(value) for name, value in (line.split() for line in f if line.strip())}
    before, after, orders = read(sys.argv[2]), read(sys.argv[3]), int(sys.argv[4])
    used = {name: after[name] - before.get(name, 0) for name in after}
    total = sum(used.values())
    for name, value in sorted(used.items(), key=lambda item: -item[1]):
        if value > 0:
            print(f'{name}|{value * 10 / max(orders, 1):.2f}')
    print(f'total|{total * 10 / max(orders, 1):.2f}')
else:
    for name, value in sorted(snapshot(int(sys.argv[1])).items()):
        print(name, value)
