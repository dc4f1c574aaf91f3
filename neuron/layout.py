"""The kernel's tables, as plain numbers: which update a population runs and which column of the
per-population parameter table holds what. No numba here, so the model specs and the verbs read it without
loading the kernels."""

LIF, ADEX, IZH, POISSON = 0, 1, 2, 3  # the update a population runs (see kernels)
UPDATES = {LIF: "lif", ADEX: "adex", IZH: "izhikevich", POISSON: "poisson"}  # those the kernels have
EXP, COND, DELTA = 0, 1, 2  # synapse kinds
SYNAPSES = ("exp", "cond", "delta")  # their names in a network description, in that order
# Columns of the per-population parameter table.
P_TAU_M, P_C_M, P_E_L, P_V_TH, P_V_RESET, P_REF_STEPS, P_G_L = 0, 1, 2, 3, 4, 5, 6
P_V_T, P_DELTA_T, P_TAU_W, P_A, P_B, P_V_PEAK = 7, 8, 9, 10, 11, 12
P_IZH_A, P_IZH_B, P_IZH_C, P_IZH_D = 13, 14, 15, 16
P_DECAY_M = 17  # exp(-dt / tau_m): the LIF membrane propagator
P_HAS_CURRENT = 18  # 1 when the population receives an input current
P_RATE = 19  # a Poisson source's rate (Hz)
N_PARAMS = 20
# Poisson sources are scanned in blocks of this many; a block whose earliest next spike is later is skipped.
SOURCES_PER_BLOCK = 64
