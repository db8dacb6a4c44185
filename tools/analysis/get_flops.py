"""Parameters and FLOPs of a model per component and per task, printed as a table
(``mtlunder.analysis.flops``).

``python tools/analysis/get_flops.py CONFIG [--shape H W] [--cfg-options ...]``
"""
import argparse


def main() -> None:
    from mmengine.config import DictAction

    from mtlunder.analysis.flops import config_complexity, format_table

    parser = argparse.ArgumentParser(description='Parameters and FLOPs per component and task')
    parser.add_argument('config', help='config file')
    parser.add_argument('--shape', type=int, nargs=2, default=[512, 512], metavar=('H', 'W'),
                        help='input height and width')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args()

    result = config_complexity(args.config, args.shape, args.cfg_options)
    print(f'Config: {args.config}')
    print(format_table(result, tuple(args.shape)))


if __name__ == '__main__':
    main()
