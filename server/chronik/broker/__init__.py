"""The single-node broker: request dispatch (``dispatch``), one handler module per API
(``handlers``), topic/partition state and group commit."""
