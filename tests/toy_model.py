"""A neuron model declared in one module, as a lab would add its own: a LIF with a fixed 10 ms membrane."""

from neuroshell.neuron import layout
from neuroshell.neuron.models import NeuronModel, ParamSpec, register


def _pack(params: dict[str, float], dt: float) -> dict[int, float]:
    import math

    tau_m = 10e-3
    return {
        layout.P_TAU_M: tau_m,
        layout.P_C_M: params["c_m"],
        layout.P_E_L: -70e-3,
        layout.P_V_TH: params["v_th"],
        layout.P_V_RESET: -70e-3,
        layout.P_DECAY_M: math.exp(-dt / tau_m),
        layout.P_G_L: params["c_m"] / tau_m,
    }


TOY = register(
    NeuronModel(
        "toy",
        "a LIF with a fixed 10 ms membrane (a test's own model)",
        layout.LIF,
        {
            "c_m": ParamSpec(100e-12, "F", "membrane capacitance"),
            "v_th": ParamSpec(-55e-3, "V", "spike threshold"),
            "v_init": ParamSpec(-70e-3, "V", "initial membrane potential"),
            "v_init_spread": ParamSpec(0.0, "V", "initial potential spread"),
        },
        _pack,
        resistance=lambda params: 10e-3 / params["c_m"],
    )
)
