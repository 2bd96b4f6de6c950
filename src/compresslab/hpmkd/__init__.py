"""HPM-KD: the six components (ACM, PDC, AWMT, MTS, PPP, SOM), KD baselines and the LightningModule."""
