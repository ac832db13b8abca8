// Checkpoint importers: see the files beside this one.
