"""Pack PaddleOCR label files into an LMDB (DTRB layout) for LMDBDataSet:
`python tools/create_lmdb.py --label_file_list a.txt [b.txt ...] --data_dir DIR --output OUT`.
Missing or corrupt images, malformed lines and empty labels are skipped and listed."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ppcrnn.data.lmdb_writer import create_lmdb  # noqa: E402
from ppcrnn.errors import DataError  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label_file_list", nargs="+", required=True, help="label files (path<TAB>label)")
    parser.add_argument("--data_dir", default="", help="folder the image paths are relative to")
    parser.add_argument("--output", required=True, help="new folder for the LMDB")
    parser.add_argument("--delimiter", default="\t", help="between image path and label (default TAB)")
    parser.add_argument("--no_check", action="store_true", help="do not decode images to find corrupt ones")
    args = parser.parse_args(argv)
    try:
        delimiter = "\t" if args.delimiter == "\\t" else args.delimiter  # a typed backslash-t
        written, skipped = create_lmdb(args.label_file_list, args.data_dir, args.output,
                                       delimiter, check_images=not args.no_check)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in skipped:
        print(f"skipped {line}", file=sys.stderr)
    print(f"{args.output}: {written} samples written, {len(skipped)} skipped")
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
