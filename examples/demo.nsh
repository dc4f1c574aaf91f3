# The neuroshell demo: the whole workbench on the simulated helmet, with no hardware and no network.
#   neuroshell demo                       (this script, as shipped)
#   neuroshell examples/demo.nsh seconds=10 epochs=10 out=quick-demo
# Parameters: seconds (recording length), channels, epochs (training passes), out (output folder).
set seed 7
set plot.dir ${out:-demo-output}/plots
set models.dir ${out:-demo-output}/models

# 1. Record: the simulated OPM-MEG helmet over a real pseudo-terminal, stimuli every 0.4-0.7 s.
connect sim --channels ${channels:-306} --rate 1kHz --isi 400ms:700ms
record start ${out:-demo-output}/demo.h5 --for ${seconds:-30}s --overwrite
monitor --for ${seconds:-30}s
record stop
disconnect all

# 2. Look at it: traces with markers, spectra (alpha and 50 Hz line noise), evoked responses.
plot traces ${out:-demo-output}/demo.h5:/streams/sim0 --channels 0:16 --from 2s --to 10s
plot psd ${out:-demo-output}/demo.h5:/streams/sim0
plot evoked ${out:-demo-output}/demo.h5:/streams/sim0 --markers stim/* --window -100ms:500ms

# 3. Decode: epochs around the stimuli, a spiking decoder, held-out accuracy next to a logistic baseline.
dataset epochs ${out:-demo-output}/demo.h5:/streams/sim0 --markers stim/* --window -100ms:400ms --baseline -100ms:0s --name evoked
train evoked --epochs ${epochs:-40} --steps 12 --hidden 128 --name decoder
evaluate decoder evoked
plot training decoder
plot confusion decoder

# 4. Close the loop: a new recording of the helmet, decoded online as it arrives, by the same code as
#    evaluate; the online accuracy is printed beside the offline one.
connect sim --channels ${channels:-306} --rate 1kHz --isi 400ms:700ms --seed 8
decode start decoder
record start ${out:-demo-output}/loop.h5 --for ${seconds:-30}s --overwrite
monitor --for ${seconds:-30}s
record stop
decode stop
disconnect all

# 5. Simulate: the CUBA benchmark network (4000 LIF neurons), 1 s, into the same file.
net example cuba
simulate 1s --to ${out:-demo-output}/simulation.h5 --run cuba --overwrite
plot raster ${out:-demo-output}/simulation.h5:/simulations/cuba
plot rates ${out:-demo-output}/simulation.h5:/simulations/cuba
plot graph

# 5. What the demo made.
outputs
