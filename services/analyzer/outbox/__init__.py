"""The outbox: Kafka records queued in the transaction that caused them, published by the relay after it commits."""
