# The neuroshell demo: the whole workbench on the simulated helmet, with no hardware and no network.
#   neuroshell demo                       (this script, as shipped)
#   neuroshell examples/demo.nsh seconds=10 epochs=10 out=quick-demo
# Parameters: seconds (the first session's recording), online (the second's), channels, epochs (training
# passes), out (output folder).
set seed 7
set plot.dir ${out:-demo-output}/plots
set models.dir ${out:-demo-output}/models
# The simulator's kernels compile once per machine (about 90 s): in the background, while the demo records.
net compile

# 1. Record: subject sub-01's first session on the simulated OPM-MEG helmet, over a real pseudo-terminal,
#    stimuli every 0.4-0.7 s, evoked responses at a realistic amplitude against the background.
connect sim --subject sub-01 --channels ${channels:-306} --rate 1kHz --isi 400ms:700ms
record start ${out:-demo-output}/demo.h5 --for ${seconds:-45}s --overwrite
monitor --for ${seconds:-45}s
record stop
disconnect all

# 2. Look at it: traces with markers, spectra (alpha and 50 Hz line noise), evoked responses.
plot traces ${out:-demo-output}/demo.h5:/streams/sim0 --channels 0:16 --from 2s --to 10s
plot psd ${out:-demo-output}/demo.h5:/streams/sim0
plot evoked ${out:-demo-output}/demo.h5:/streams/sim0 --markers stim/* --window -100ms:500ms

# 3. Decode: epochs around the stimuli, a spiking decoder (xDAWN spatial filters feeding spiking layers), its
#    held-out accuracy beside chance, a logistic baseline and the best of the field's pipelines.
dataset epochs ${out:-demo-output}/demo.h5:/streams/sim0 --markers stim/* --window -100ms:400ms --baseline -100ms:0s --name evoked
train evoked --model snn-xdawn --epochs ${epochs:-40} --name decoder
evaluate decoder evoked
plot training decoder
plot confusion decoder

# 4. Close the loop: the same subject's second session (another seed: the head sits a few degrees
#    otherwise, gains and alpha differ), decoded online as it arrives by the same code as evaluate; the
#    online accuracy is printed beside the offline one.
connect sim --subject sub-01 --channels ${channels:-306} --rate 1kHz --isi 400ms:700ms --seed 8
decode start decoder
record start ${out:-demo-output}/loop.h5 --for ${online:-25}s --overwrite
monitor --for ${online:-25}s
record stop
decode stop
disconnect all

# 5. Simulate: the CUBA benchmark network (4000 LIF neurons), 1 s, into the same file.
net example cuba
simulate 1s --to ${out:-demo-output}/simulation.h5 --run cuba --overwrite
plot raster ${out:-demo-output}/simulation.h5:/simulations/cuba
plot rates ${out:-demo-output}/simulation.h5:/simulations/cuba
plot graph

# 6. What the demo made.
outputs
