"""CPU time of one sweep sample of ``fixed`` or ``rebalance``, in one process, as a worker runs it.

A sweep's wall time on this shared 2-CPU machine says more of the other jobs than of the code;
the CPU time a sample takes does not depend on the workers or the load as much. This script
prepares the sweep model as :func:`supplychain.uncertainty.run_sweep` does, freezes the imports
(:mod:`supplychain.parallel.frozen`, as the fork server does for a worker), evaluates a few
samples to fill the caches a worker fills with its first chunk, then times the next samples
(``time.process_time``) and prints the CPU milliseconds a sample. Run it on two trees in turn
(each with its own code first on ``PYTHONPATH``) to compare them::

    PYTHONPATH=. .venv/bin/python benchmarks/sample_cpu.py --mode fixed --samples 15
    PYTHONPATH=/tmp/wt_base .venv/bin/python benchmarks/sample_cpu.py --mode rebalance --samples 8
"""

from __future__ import annotations

import argparse
import gc
import time


def main() -> None:
    """Print the CPU milliseconds a sample of the scenario's sweep takes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/path_to_2030.yaml")
    parser.add_argument("--mode", choices=("fixed", "rebalance"), default="fixed")
    parser.add_argument("--samples", type=int, default=15, help="samples timed (after --warm-up ones)")
    parser.add_argument("--warm-up", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import supplychain
    import supplychain.api
    from supplychain.io.load import as_scenario
    from supplychain.uncertainty import montecarlo as mc
    from supplychain.uncertainty.sampling import draw

    gc.freeze()  # the imports, as in a worker (supplychain.parallel.frozen)
    sc = as_scenario(args.scenario)
    spec = mc.sweep_spec(sc, mode=args.mode, toggles={}, variant=None, parameters=None, exclude=())
    select = mc.measure_filter(None, None, None, None, targets=sc.targets)
    model, _ = mc.build_model(sc, spec, mode=args.mode, years=tuple(sc.years), source=None, toggles={},
                              variant=None, select=select)
    inputs = draw(spec, args.warm_up + args.samples, args.seed)
    model.evaluate(inputs.iloc[:args.warm_up])
    cpu, wall = time.process_time(), time.perf_counter()
    model.evaluate(inputs.iloc[args.warm_up:])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{supplychain.__file__}: {args.mode}, {args.samples} samples: CPU {1000 * cpu / args.samples:.0f} ms a "
          f"sample (wall {1000 * wall / args.samples:.0f} ms)")


if __name__ == "__main__":
    main()
