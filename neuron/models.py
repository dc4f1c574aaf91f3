"""Neuron models and their parameters: names, SI defaults and units. Values are always SI (s, V, A, S, F).

- ``lif``: leaky integrate-and-fire with a refractory period; subthreshold dynamics integrated exactly
  (exponential propagators, as Brian2's ``exact`` method and NEST's iaf_psc_exp).
- ``adex``: adaptive exponential integrate-and-fire (Brette & Gerstner 2005), forward Euler.
- ``izh``: Izhikevich (2003) simple model; its input is in Izhikevich's units (currents counted in pA,
  voltage-like synaptic input in mV).
"""

from dataclasses import dataclass

from neuroshell.common.errors import UserError


@dataclass(frozen=True)
class ParamSpec:
    default: float
    unit: str  # SI unit symbol, "" for dimensionless
    help: str


MODELS: dict[str, dict[str, ParamSpec]] = {
    "lif": {
        "tau_m": ParamSpec(20e-3, "s", "membrane time constant"),
        "c_m": ParamSpec(200e-12, "F", "membrane capacitance (R = tau_m / c_m converts currents)"),
        "e_l": ParamSpec(-65e-3, "V", "resting (leak reversal) potential"),
        "v_th": ParamSpec(-50e-3, "V", "spike threshold"),
        "v_reset": ParamSpec(-65e-3, "V", "reset potential"),
        "t_ref": ParamSpec(2e-3, "s", "refractory period"),
        "v_init": ParamSpec(-65e-3, "V", "initial membrane potential"),
        "v_init_spread": ParamSpec(0.0, "V", "initial potential drawn uniformly from v_init + [0, spread)"),
    },
    "adex": {
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
        "v_init": ParamSpec(-70.6e-3, "V", "initial membrane potential"),
        "v_init_spread": ParamSpec(0.0, "V", "initial potential spread"),
    },
    "izh": {
        "a": ParamSpec(0.02, "", "recovery time scale (1/ms)"),
        "b": ParamSpec(0.2, "", "recovery sensitivity"),
        "c": ParamSpec(-65e-3, "V", "reset potential"),
        "d": ParamSpec(8.0, "", "recovery reset increment"),
        "v_peak": ParamSpec(30e-3, "V", "spike cut-off"),
        "v_init": ParamSpec(-65e-3, "V", "initial membrane potential"),
        "v_init_spread": ParamSpec(0.0, "V", "initial potential spread"),
    },
}


class ModelError(UserError):
    """An unknown model or parameter."""


def model_params(model: str, given: dict[str, float]) -> dict[str, float]:
    """Defaults of ``model`` overridden by ``given`` (SI values); unknown names are errors."""
    if model not in MODELS:
        raise ModelError(f"unknown neuron model '{model}' (models: {', '.join(MODELS)})")
    spec = MODELS[model]
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise ModelError(f"{model} has no parameter '{unknown[0]}' (parameters: {', '.join(spec)})")
    return {name: float(given.get(name, p.default)) for name, p in spec.items()}
