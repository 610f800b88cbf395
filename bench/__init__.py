"""Measuring newsbot: the benchmark behind `newsbot bench` (speed, memory and quality beside
rank-bm25 and bm25s), its city-size corpus, one worker's throughput, and the dev-question eval.
Outside the search library, so `index` stays what the product serves.
"""
