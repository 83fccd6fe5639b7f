"""Pure torch.nn networks (no Lightning, no XRD): MLP and 1D-CNN with selectable activations."""
