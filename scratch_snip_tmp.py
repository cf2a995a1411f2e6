import time; t0=time.time()
import numpy as np
from dmz_solver.arch import arch_from_json
from dmz_solver.workload.templates import gemm_nest, conv_nest
from dmz_solver.cost.packing import Problem
from dmz_solver.cost import kernel as k
spec = {"arch_details": {"communication_energy": 0.5}, "arch_basic": {"RF_SIZE": 512},
        "pe_array": {"rows": 2, "cols": 2},
        "networks": {"input": {"kind": "systolic", "direction": "rows", "energy": 0.5}}}
arch = arch_from_json(spec, source="t", name="t")
nest = gemm_nest("g", x=8, y=4, k=16)
print(nest.loops, [o.name for o in nest.operands], [o.dims for o in nest.operands], [o.index_loops for o in nest.operands])
p = Problem(nest, arch)
t = np.array([[1,1,2],[1,1,1],[4,2,8],[2,2,1]], np.int64)
pi, pf, rowf = p.unrollings(t[3], (2, 1, 1))[0]
dcoef, dsize, ndims, isidx, cands, fp, ip = p.arrays
ti = np.zeros(k.N_TI, np.int64); noc = np.zeros(3, np.int64); dma = np.zeros(3, np.int64); dspm = np.zeros(3, np.int64)
e_noc = np.zeros(3); e_spm = np.zeros(3); e_dma = np.zeros(3); tiles = np.zeros((3, 3), np.int64)
r = k.tiling_terms(t, dcoef, dsize, ndims, isidx, fp, ip, ti, noc, dma, e_noc, e_spm, e_dma, dspm, tiles, (pi, pf, rowf))
print(noc, e_noc, r, ti, fp, time.time()-t0)
print(p.unrollings(t[3], None))
