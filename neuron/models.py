"""Neuron models, each declared once as a ``NeuronModel``: its parameters (SI defaults and units), how they
fill the kernel's parameter table, its membrane resistance and its initial state. Everything else (the
simulator, ``net add``'s choices, help and completion) reads ``MODELS``; a new model is one ``register``
call, plus a membrane update in the kernels if none of the existing ones fits.

- ``lif``: leaky integrate-and-fire with a refractory period; subthreshold dynamics integrated exactly
  (exponential propagators, as Brian2's ``exact`` method and NEST's iaf_psc_exp).
- ``adex``: adaptive exponential integrate-and-fire (Brette & Gerstner 2005), forward Euler.
- ``izh``: Izhikevich (2003) simple model; its input is in Izhikevich's units (currents counted in pA,
  voltage-like synaptic input in mV).
- ``poisson``: Poisson spike sources at ``rate_hz`` (Brian2's PoissonGroup, NEST's poisson_generator
  with one train per neuron), for inputs whose synapses learn.

No numpy or numba import here: the prompt reads these specs at start-up.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from neuroshell.common.errors import UserError
from neuroshell.neuron import layout


@dataclass(frozen=True)
class ParamSpec:
    default: float
    unit: str  # SI unit symbol, "" for dimensionless
    help: str


def _no_adaptation(params: dict[str, float], v):
    return v * 0.0


@dataclass(frozen=True)
class NeuronModel:
    """One neuron model. ``pack(params, dt)`` gives its columns of the kernel's parameter table
    ({column: value}); ``resistance(params)`` (ohms) turns a synaptic weight in A into volts;
    ``initial_w(params, v)`` is the adaptation state for initial potentials ``v`` (an array, V)."""

    name: str
    summary: str
    update: int  # which membrane update the kernel runs: layout.LIF, ADEX or IZH
    params: dict[str, ParamSpec]
    pack: Callable[[dict[str, float], float], dict[int, float]]
    resistance: Callable[[dict[str, float]], float]
    initial_w: Callable = field(default=_no_adaptation)

    def with_defaults(self, given: dict[str, float]) -> dict[str, float]:
        """The model's defaults overridden by ``given`` (SI values); unknown names are errors."""
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            raise ModelError(f"{self.name} has no parameter '{unknown[0]}' (parameters: {', '.join(self.params)})")
        return {name: float(given.get(name, spec.default)) for name, spec in self.params.items()}


class ModelError(UserError):
    """An unknown model or parameter."""


MODELS: dict[str, NeuronModel] = {}


def register(model: NeuronModel) -> NeuronModel:
    """Make ``model`` known to the simulator and to every verb (``net add --model``, help, completion)."""
    check_update(model)
    MODELS[model.name] = model
    return model


def check_update(model: NeuronModel) -> None:
    """A ModelError unless the kernels have the membrane update ``model.update`` names: without this, an
    unknown number would run another model's dynamics."""
    if model.update not in layout.UPDATES:
        known = ", ".join(f"{name} ({number})" for number, name in layout.UPDATES.items())
        raise ModelError(
            f"neuron model '{model.name}': the kernels have no membrane update {model.update} (updates: {known}); "
            "add its function to neuron/kernels/membrane.py first"
        )


def model(name: str) -> NeuronModel:
    if name not in MODELS:
        raise ModelError(f"unknown neuron model '{name}' (models: {', '.join(MODELS)})")
    return MODELS[name]


def model_params(name: str, given: dict[str, float]) -> dict[str, float]:
    """Defaults of model ``name`` overridden by ``given`` (SI values); unknown names are errors."""
    return model(name).with_defaults(given)


def _initial(default_v: float) -> dict[str, ParamSpec]:
    return {
        "v_init": ParamSpec(default_v, "V", "initial membrane potential"),
        "v_init_spread": ParamSpec(0.0, "V", "initial potential drawn uniformly from v_init + [0, spread)"),
    }


def _pack_lif(p: dict[str, float], dt: float) -> dict[int, float]:
    return {
        layout.P_TAU_M: p["tau_m"],
        layout.P_C_M: p["c_m"],
        layout.P_E_L: p["e_l"],
        layout.P_V_TH: p["v_th"],
        layout.P_V_RESET: p["v_reset"],
        layout.P_REF_STEPS: round(p["t_ref"] / dt),
        layout.P_DECAY_M: math.exp(-dt / p["tau_m"]),
        layout.P_G_L: p["c_m"] / p["tau_m"],
    }


def _pack_adex(p: dict[str, float], dt: float) -> dict[int, float]:
    return {
        layout.P_C_M: p["c_m"],
        layout.P_G_L: p["g_l"],
        layout.P_E_L: p["e_l"],
        layout.P_V_T: p["v_t"],
        layout.P_DELTA_T: p["delta_t"],
        layout.P_TAU_W: p["tau_w"],
        layout.P_A: p["a"],
        layout.P_B: p["b"],
        layout.P_V_RESET: p["v_reset"],
        layout.P_V_PEAK: p["v_peak"],
        layout.P_REF_STEPS: round(p["t_ref"] / dt),
        layout.P_TAU_M: p["c_m"] / p["g_l"],
    }


def _pack_izh(p: dict[str, float], dt: float) -> dict[int, float]:
    return {
        layout.P_IZH_A: p["a"],
        layout.P_IZH_B: p["b"],
        layout.P_IZH_C: p["c"],
        layout.P_IZH_D: p["d"],
        layout.P_V_PEAK: p["v_peak"],
    }


register(
    NeuronModel(
        "lif",
        "leaky integrate-and-fire, integrated exactly",
        layout.LIF,
        {
            "tau_m": ParamSpec(20e-3, "s", "membrane time constant"),
            "c_m": ParamSpec(200e-12, "F", "membrane capacitance (R = tau_m / c_m converts currents)"),
            "e_l": ParamSpec(-65e-3, "V", "resting (leak reversal) potential"),
            "v_th": ParamSpec(-50e-3, "V", "spike threshold"),
            "v_reset": ParamSpec(-65e-3, "V", "reset potential"),
            "t_ref": ParamSpec(2e-3, "s", "refractory period"),
            **_initial(-65e-3),
        },
        _pack_lif,
        resistance=lambda p: p["tau_m"] / p["c_m"],
    )
)
register(
    NeuronModel(
        "adex",
        "adaptive exponential integrate-and-fire (Brette & Gerstner 2005)",
        layout.ADEX,
        {
            "c_m": ParamSpec(281e-12, "F", "membrane capacitance"),
            "g_l": ParamSpec(30e-9, "S", "leak conductance"),
            "e_l": ParamSpec(-70.6e-3, "V", "leak reversal potential"),
            "v_t": ParamSpec(-50.4e-3, "V", "threshold slope point"),
            "delta_t": ParamSpec(2e-3, "V", "slope factor"),
            "tau_w": ParamSpec(144e-3, "s", "adaptation time constant"),
            "a": ParamSpec(4e-9, "S", "subthreshold adaptation"),
            "b": ParamSpec(80.5e-12, "A", "spike-triggered adaptation"),
            "v_reset": ParamSpec(-70.6e-3, "V", "reset potential"),
            "v_peak": ParamSpec(0.0, "V", "spike cut-off"),
            "t_ref": ParamSpec(0.0, "s", "refractory period"),
            **_initial(-70.6e-3),
        },
        _pack_adex,
        resistance=lambda p: 1.0 / p["g_l"],
    )
)
register(
    NeuronModel(
        "izh",
        "Izhikevich (2003) simple model, in its own units (pA, mV)",
        layout.IZH,
        {
            "a": ParamSpec(0.02, "", "recovery time scale (1/ms)"),
            "b": ParamSpec(0.2, "", "recovery sensitivity"),
            "c": ParamSpec(-65e-3, "V", "reset potential"),
            "d": ParamSpec(8.0, "", "recovery reset increment"),
            "v_peak": ParamSpec(30e-3, "V", "spike cut-off"),
            **_initial(-65e-3),
        },
        _pack_izh,
        resistance=lambda p: 1e9,  # a weight in A enters as pA through a nominal 1 GOhm
        initial_w=lambda p, v: p["b"] * v * 1e3,  # u = b v, v in mV
    )
)
register(
    NeuronModel(
        "poisson",
        "Poisson spike sources (no membrane): each fires at rate_hz",
        layout.POISSON,
        {"rate_hz": ParamSpec(10.0, "Hz", "firing rate")},
        lambda p, dt: {layout.P_RATE: p["rate_hz"]},
        resistance=lambda p: 1.0,
        initial_w=lambda p, v: v * 0.0 - 1.0,  # the step of each source's next spike: not drawn yet
    )
)
