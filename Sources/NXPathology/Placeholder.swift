// Pathology pipeline: see the files beside this one.
