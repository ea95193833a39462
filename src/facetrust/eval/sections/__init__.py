"""The evaluation protocols, one module each, registered with
:func:`facetrust.eval.protocols.register_protocol` (a new protocol is one new file here).

Each registers ``section(run: ProtocolRun)``, called by :func:`facetrust.eval.evaluate` after the
clean scoring of the test samples, which appends the protocol's metric rows and results sections.
Heavy modules (engine, tables) are imported inside the sections so that listing or resolving a
protocol name stays cheap.
"""
