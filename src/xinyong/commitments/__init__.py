"""Credit commitments (信用承诺): templates, online signing, publicity and fulfilment."""
