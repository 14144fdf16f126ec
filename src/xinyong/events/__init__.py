"""Domain events (领域事件): changes others react to, written in the same transaction (an outbox) and consumed."""
