"""Correct but wasteful solutions for 09-capstone-pipeline: they must lose exactly the memory points."""

WASTEFUL = {
    # the reference text's naive approach: every row as a dict in a list, then the statistics
    "summarize_csv": (
        "def summarize_csv(path):\n"
        "    with open(path, newline=\"\") as f:\n"
        "        rows = list(csv.DictReader(f))\n"
        "    values = [int(row[\"value\"]) for row in rows]\n"
        "    if not values:\n"
        "        return {\"count\": 0, \"total\": 0, \"mean\": None, \"min\": None, \"max\": None}\n"
        "    return {\"count\": len(values), \"total\": sum(values), \"mean\": sum(values) / len(values),\n"
        "            \"min\": min(values), \"max\": max(values)}\n"
    ),
    # the frame as it came, copied: the same data, none of it shrunk
    "shrink_frame": (
        "def shrink_frame(df):\n"
        "    return df.copy()\n"
    ),
}
MEMORY_TESTS = {"test_summarize_csv_memory", "test_shrink_frame_memory"}
