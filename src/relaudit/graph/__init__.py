"""The workload graph: which resources call, notify, poll or store into which, grouped into workloads.

Built in three pure steps: :mod:`facts` turns each resource document into compact node, edge and
grant facts as the documents stream past; :mod:`build` assembles one account's facts into a
networkx graph once its scopes are read; :mod:`documents` derives, per node, the graph document
the graph checks (``graph: true`` in checks/*.yaml) evaluate with the catalog's JMESPath machinery.
"""
