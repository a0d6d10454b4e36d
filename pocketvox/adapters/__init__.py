"""Grid adapters: each turns a domain's sources into volumes for :mod:`pocketvox.volume` and
predictions back into the domain's files. Registered by name (lazily: nothing heavy is imported here).
"""

from pocketvox.volume.adapter import register_adapter

register_adapter("molecular", "pocketvox.adapters.molecular:MolecularAdapter")
register_adapter("medical", "pocketvox.adapters.medical:MedicalAdapter")
register_adapter("climate", "pocketvox.adapters.climate:ClimateAdapter")
