"""Tiered, classified supervision (分级分类监管): grades steer random inspections (双随机、一公开), interviews and training."""
