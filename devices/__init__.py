"""Device drivers behind one interface: the simulated helmet, serial (pyserial) and LSL (pylsl)."""
