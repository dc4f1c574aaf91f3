"""The live view in the browser: Bokeh's server on 127.0.0.1 draws the devices' signals, markers, the
decoder's answers and the latest simulation as the session goes. A plain library: the page reads the
session only through the ``Snapshot`` its owner hands it."""
