"""Public credit evaluation (公共信用综合评价): declarative models, compiled feature queries, explainable grades."""
