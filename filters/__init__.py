"""Online filters for live streams: causal second-order sections whose state carries across blocks, so a
stream filtered block by block equals the same stream filtered at once. A plain library (scipy inside)."""
