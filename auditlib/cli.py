"""The ``auditlib`` command line (CONTRACT §5).

Each command parses its options and calls one library function; the work is
done in the library so notebooks and tests use the same code.  Errors derived
from :class:`~auditlib.errors.AuditlibError` print one clear line and exit 2;
nothing else is caught here.
"""
from __future__ import annotations

import functools
import inspect
import logging
import re
import sys

import click

from auditlib import __version__
from auditlib.errors import AuditlibError
from auditlib.i18n import LANGS, default_lang, t
from auditlib.i18n import register as register_messages

logger = logging.getLogger("auditlib")

# -- the command line in the user's language -------------------------------------------------------
#
# Every help text is an i18n key (``help.*`` below) looked up when help is printed, in the language
# of ``--lang`` (read from the arguments before click parses them, since ``--help`` acts first),
# else ``AUDITLIB_LANG``, else Chinese.  Click's own usage errors are re-worded the same way and
# say what to do; they still exit 2.

LANG_META = "auditlib.lang"

_HELP = {
    "help.main": ("auditlib：财政专项检查审计工作台（沉淀资金、小金库、支付不及时）。\n\n"
                  "用 --lang en 或环境变量 AUDITLIB_LANG=en 切换为英文。",
                  "auditlib: audit workbench for special fiscal inspections (idle funds, slush funds, "
                  "delayed payments).\n\nChinese with --lang zh or AUDITLIB_LANG=zh."),
    "help.verbose": ("输出调试日志。", "Log debug messages."),
    "help.version": ("显示版本并退出。", "Show the version and exit."),
    "help.help": ("显示本帮助并退出。", "Show this message and exit."),
    "help.lang": ("提示信息的语言（默认 zh，或环境变量 AUDITLIB_LANG）。",
                  "Language of messages (default: zh, or AUDITLIB_LANG)."),
    "help.init": ("在 FOLDER 中建立审计工作区：params/、notebooks/、data/、outputs/ 和说明文件 README。",
                  "Create an audit workspace in FOLDER: params/, notebooks/, data/, outputs/ and a README."),
    "help.synth": ("在 OUT_DIR 中生成模拟县级数据（六张表和 truth.csv）。",
                   "Write a synthetic county (six tables + truth.csv) to OUT_DIR."),
    "help.synth.units": ("模拟县的预算单位数。", "Number of budget units in the synthetic county."),
    "help.synth.seed": ("随机种子。", "Random seed."),
    "help.ingest": ("将 DATA_DIR（文件夹或文件，可多个）中的 CSV/XLSX 文件校验后载入数据库 DB。"
                    "退出码：0 正常；1 有文件拒收行占比超过 --max-reject-share；2 出错（未载入任何数据）。",
                    "Load and validate the CSV/XLSX files of DATA_DIR (folders or files, one or more) into DB. "
                    "Exit 0 when all is well, 1 when a file has more than --max-reject-share of its rows "
                    "rejected, 2 on errors (nothing loaded)."),
    "help.ingest.db": ("要写入的 DuckDB 数据库文件。", "DuckDB database file to write."),
    "help.ingest.mapping": ("字段映射方案（YAML 文件，或 params/mappings/ 中的方案名），用于其他格式的导出"
                            "（用友、金蝶、公开数据）。",
                            "Mapping profile (YAML file, or the name of one in params/mappings/) for exports "
                            "in another layout (用友, 金蝶, open data)."),
    "help.ingest.replace": ("重新载入内容或映射配置已改变的文件，以及命令行中直接列出的文件：先删除其旧数据（同一事务内），"
                            "并记入 audit-log.jsonl。",
                            "Reload files whose content or mapping profile changed, and files named on the command "
                            "line: their old rows are deleted first (in the same transaction) and audit-log.jsonl "
                            "records it."),
    "help.ingest.max_reject_share": ("任一文件拒收行占比超过此值（0.01 = 1%）时退出码为 1。",
                                     "Exit 1 when any file has more than this share of its rows rejected "
                                     "(0.01 = 1%)."),
    "help.rules": ("列出规则目录：参数与法规依据。", "Print the rule catalogue with parameters and legal basis."),
    "help.db": ("DuckDB 数据库文件（由 auditlib ingest 生成）。", "DuckDB database file (made by auditlib ingest)."),
    "help.params": ("参数 YAML 文件，覆盖 params/default.yaml 中的设置。",
                    "Parameters YAML on top of params/default.yaml."),
    "help.units": ("all，或以逗号分隔的单位编码。", "all, or unit codes separated by commas."),
    "help.inspections": ("all，或以逗号分隔的检查事项：沉淀资金、小金库、支付不及时"
                         "（或其英文名 idle_funds slush_funds delayed_payments）。",
                         "all, or inspections separated by commas: idle_funds (沉淀资金), slush_funds (小金库), "
                         "delayed_payments (支付不及时)."),
    "help.scan": ("不运行底稿，直接执行全部规则并写出 findings.csv（CONTRACT §4）。",
                  "Run every rule without notebooks and write findings.csv (CONTRACT §4)."),
    "help.scan.out": ("要写出的 findings.csv。", "findings.csv to write."),
    "help.scan.timings": ("另写出各规则用时（秒）的 JSON 文件，最慢的在前。",
                          "Also write a JSON file of each rule's seconds, slowest first."),
    "help.run": ("逐单位运行检查底稿：ipynb、html、xlsx、index.html、manifest.json、findings.csv。",
                 "Run the inspection notebooks per unit: ipynb, html, xlsx, index.html, manifest.json, findings.csv."),
    "help.run.out": ("存放各批次的文件夹；本批次写入 OUT/RUN_ID/（默认：工作区的 outputs/）。",
                     "Folder holding the runs; this run writes OUT/RUN_ID/ (default: the workspace's outputs/)."),
    "help.run.run_id": ("批次号（默认为时间戳）。已完成的批次不会被覆盖。",
                        "Run id (default: a timestamp). A finished run is never overwritten."),
    "help.run.resume": ("续跑 --run-id 指定的批次，只重做未成功的任务。", "Finish run --run-id, redoing only tasks not ok."),
    "help.run.workers": ("本机工作进程数（默认：CPU 数）。", "Local worker processes (default: CPUs)."),
    "help.run.scheduler": ("Dask 分布式调度器地址（tcp://主机:端口）。", "Dask distributed scheduler address (tcp://host:port)."),
    "help.run.notebooks": ("底稿模板文件夹（默认：工作区的 notebooks/）。",
                           "Folder of notebook templates (default: the workspace's notebooks/)."),
    "help.run.kernel": ("运行底稿的 Jupyter 内核。", "Jupyter kernel the notebooks run on."),
    "help.run.cell_timeout": ("底稿单个单元格最长运行秒数，超时则该任务失败。",
                              "Seconds one notebook cell may run before its task fails."),
    "help.run.reuse_kernels": ("每个工作进程复用一个预热内核（底稿之间重置），或每个底稿新启动一个内核。",
                               "Reuse one warm kernel per worker (reset between notebooks), or start one per notebook."),
    "help.run.progress": ("显示任务进度条。", "Show a progress bar over tasks."),
    "help.run.register": ("疑点登记簿，给出每个疑点的核实状态（默认：数据库旁的 register.jsonl，若存在）。",
                          "Findings register (疑点登记簿) giving each finding its status "
                          "(default: register.jsonl beside the database, when it exists)."),
    "help.run.baseline": ("用于对比的以前批次文件夹：新增/仍存在的疑点及 resolved.csv。",
                          "An earlier run folder to compare with: new/persisting findings and resolved.csv."),
    "help.diff": ("按疑点编号比较两个批次 RUN_A → RUN_B：新增 / 仍存在 / 已消除（CONTRACT §6）。",
                  "Compare two runs by finding_id: new, persisting, resolved from RUN_A to RUN_B (CONTRACT §6)."),
    "help.diff.out": ("要写出的 CSV 文件。", "CSV file to write."),
    "help.review": ("核实结论与疑点登记簿。", "Verification decisions in the findings register (疑点登记簿)."),
    "help.review.db": ("数据库；登记簿默认为其旁的 register.jsonl。", "DuckDB database (register.jsonl beside it)."),
    "help.review.register": ("疑点登记簿文件。", "The findings register file."),
    "help.review.import": ("读回已填写的证据工作簿中的核实结论（全部无误才记录）。",
                           "Read decisions back from returned workbooks (all or nothing)."),
    "help.review.import.by": ("核实人（代替封面上的核实人、复核人）。", "Who decided (overrides the covers' names)."),
    "help.review.set": ("记录一个或多个疑点的核实结论。", "Record a decision about one or more findings."),
    "help.review.set.status": ("待核实 open / 属实 confirmed / 排除 dismissed / 已整改 rectified。",
                               "open (待核实) / confirmed (属实) / dismissed (排除) / rectified (已整改)."),
    "help.review.set.by": ("核实人。", "Who decided."),
    "help.review.set.reason": ("核实说明（排除时必填）。", "Explanation (required for dismissed)."),
    "help.review.set.amount": ("认定金额（元）。", "Confirmed amount (yuan)."),
    "help.review.set.run": ("在该批次的 findings.csv 中查找疑点编号。", "Find the ids in this run's findings.csv."),
    "help.review.list": ("导出登记簿：每个疑点的最新结论（--history 为全部结论）。",
                         "The register as CSV: each finding's latest decision (--history: every decision)."),
    "help.review.list.status": ("只列最新结论为该状态的疑点。", "Only findings whose latest decision has this status."),
    "help.review.list.history": ("列出每一条结论，而非只列最新的。", "Every decision, not only the latest."),
    # click's own words
    "click.usage": ("用法：", "Usage: "),
    "click.metavar.options": ("[选项]", "[OPTIONS]"),
    "click.metavar.command": ("命令 [参数]...", "COMMAND [ARGS]..."),
    "click.options": ("选项", "Options"),
    "click.commands": ("命令", "Commands"),
    "click.default": ("默认：{value}", "default: {value}"),
    "click.required": ("必填", "required"),
    "click.error": ("错误：{message}", "Error: {message}"),
    "click.try": ("运行 '{command} --help' 查看用法。", "Try '{command} --help' for help."),
    "click.missing.option": ("缺少选项 {name}。", "Missing option {name}."),
    "click.missing.argument": ("缺少参数 {name}。", "Missing argument {name}."),
    "click.no_such_option": ("没有选项 {name}。", "No such option: {name}."),
    "click.did_you_mean": ("是否想用：{names}？", "Did you mean: {names}?"),
    "click.bad_value": ("{name} 的值无效：{message}", "Invalid value for {name}: {message}"),
    "hint.no_db": ("数据库尚未建立：先运行 auditlib ingest DATA_DIR --db {path} 载入数据。",
                   "No database yet: run `auditlib ingest DATA_DIR --db {path}` first."),
    "hint.no_params": ("参数文件不存在：检查路径；可用的参数见 auditlib rules 与 params/default.yaml。",
                       "No such parameters file: check the path; see `auditlib rules` and params/default.yaml."),
    "hint.no_run": ("批次文件夹不存在：批次在 outputs/ 下，由 auditlib run 生成。",
                    "No such run folder: runs are under outputs/, made by `auditlib run`."),
    "hint.no_data": ("数据文件夹不存在：检查路径，或先用 auditlib synth 生成示例数据。",
                     "No such data folder: check the path, or make demo data with `auditlib synth`."),
}
register_messages(_HELP)

_KINDS = {"file": "文件", "directory": "文件夹"}
#: click's message texts (English, from click) -> their Chinese, by pattern
_CLICK_ZH = [
    (re.compile(r"^(File|Directory|Path|file|directory|path) '(.*)' does not exist\.$"),
     lambda m: f"{_KINDS.get(m[1].lower(), '路径')} {m[2]} 不存在。"),
    (re.compile(r"^(File|Directory|Path) '(.*)' is a directory\.$"), lambda m: f"{m[2]} 是文件夹，应为文件。"),
    (re.compile(r"^(File|Directory|Path) '(.*)' is a file\.$"), lambda m: f"{m[2]} 是文件，应为文件夹。"),
    (re.compile(r"^'(.*)' is not one of (.*)\.$", re.S), lambda m: f"{m[1]!r} 不是可选值之一：{m[2]}。"),
    (re.compile(r"^'(.*)' is not (?:one of |a valid )(.*)\.$", re.S), lambda m: f"{m[1]!r} 不是有效的值（{m[2]}）。"),
    (re.compile(r"^(.*) is not in the range (.*)\.$"), lambda m: f"{m[1]} 不在范围 {m[2]} 内。"),
    (re.compile(r"^No such command '(.*)'\.$"), lambda m: f"没有命令 {m[1]!r}。"),
    (re.compile(r"^Missing command\.$"), lambda m: "缺少命令。"),
    (re.compile(r"^Option '(.*)' requires an argument\.$"), lambda m: f"选项 {m[1]} 需要一个值。"),
    (re.compile(r"^Option '(.*)' requires (\d+) arguments\.$"), lambda m: f"选项 {m[1]} 需要 {m[2]} 个值。"),
    (re.compile(r"^Got unexpected extra arguments? \((.*)\)$"), lambda m: f"多余的参数：{m[1]}"),
    (re.compile(r"^Option '(.*)' does not take a value\.$"), lambda m: f"选项 {m[1]} 不接受值。"),
]


def _argv_lang(args) -> str | None:
    """The value of ``--lang`` among ``args`` (before ``--``), when it names a known language."""
    args = list(args)
    for i, arg in enumerate(args):
        if arg == "--":
            break
        value = args[i + 1] if arg == "--lang" and i + 1 < len(args) else (
            arg.split("=", 1)[1] if arg.startswith("--lang=") else None)
        if value in LANGS:
            return value
    return None


def cli_lang(ctx: click.Context | None = None) -> str:
    """The language of this command line: ``--lang`` anywhere in it, else ``AUDITLIB_LANG``, else zh."""
    ctx = ctx or click.get_current_context(silent=True)
    return (ctx.meta.get(LANG_META) if ctx is not None else None) or default_lang()


def _text(value: str | None, ctx: click.Context | None = None) -> str:
    """A help text: an i18n key (``help.*``) in the command line's language; other text as given."""
    if value and value.startswith("help."):
        return t(value, cli_lang(ctx))
    return value or ""


def _zh_click_message(message: str) -> str:
    for pattern, replace in _CLICK_ZH:
        m = pattern.match(message)
        if m:
            return replace(m)
    return message


class LocalisedUsageError(click.UsageError):
    """A click usage error re-worded in the command line's language, with a hint what to do (exit 2)."""

    def __init__(self, original: click.UsageError):
        super().__init__(original.message, original.ctx)
        self.original = original

    def message_in(self, lang: str) -> str:
        e = self.original
        param = getattr(e, "param", None)
        hint = getattr(e, "param_hint", None)
        name = (hint if isinstance(hint, str) else " / ".join(hint)) if hint else (
            param.get_error_hint(e.ctx) if param is not None else "")
        if lang == "en":
            return e.format_message()
        if isinstance(e, click.MissingParameter):
            kind = "click.missing.argument" if isinstance(param, click.Argument) else "click.missing.option"
            return t(kind, lang, name=name)
        if isinstance(e, click.NoSuchOption):
            text = t("click.no_such_option", lang, name=e.option_name)
            if e.possibilities:
                text += t("click.did_you_mean", lang, names=", ".join(sorted(e.possibilities)))
            return text
        if isinstance(e, click.BadParameter) and name:
            return t("click.bad_value", lang, name=name, message=_zh_click_message(e.message))
        return _zh_click_message(e.message)

    def hint(self, lang: str) -> str | None:
        """What to do, for the errors a newcomer meets first (a file or folder that is not there)."""
        e = self.original
        param = getattr(e, "param", None)
        if not isinstance(e, click.BadParameter) or param is None or "does not exist" not in e.message:
            return None
        value = re.search(r"'(.*)'", e.message)
        key = {"db": "hint.no_db", "params_file": "hint.no_params", "run_a": "hint.no_run", "run_b": "hint.no_run",
               "baseline": "hint.no_run", "run_dir": "hint.no_run", "data_dir": "hint.no_data"}.get(param.name)
        return t(key, lang, path=value[1] if value else "FILE") if key else None

    def show(self, file=None) -> None:
        lang = cli_lang(self.ctx)
        if self.ctx is not None:
            click.echo(self.ctx.get_usage(), err=True, color=self.ctx.color)
            click.echo(t("click.try", lang, command=self.ctx.command_path), err=True)
        click.echo(t("click.error", lang, message=self.message_in(lang)), err=True)
        hint = self.hint(lang)
        if hint:
            click.echo(hint, err=True)


class LocalisedOption(click.Option):
    """An option whose help is an i18n key, shown in the command line's language."""

    def get_help_record(self, ctx):
        key = self.help
        self.help = _text(key, ctx)
        try:
            record = super().get_help_record(ctx)
        finally:
            self.help = key
        if record is None or cli_lang(ctx) == "en":
            return record
        names, text = record
        text = re.sub(r"default: ([^;\]]*)", lambda m: t("click.default", "zh", value=m[1]), text)
        return names, text.replace("required]", t("click.required", "zh") + "]")


class _Localised:
    """Help and usage errors of a command (or group) in the command line's language."""

    def parse_args(self, ctx, args):
        lang = _argv_lang(args)
        if lang:
            ctx.meta[LANG_META] = lang
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if isinstance(exc, LocalisedUsageError) or type(exc).__name__ == "NoArgsIsHelpError":
                raise
            raise LocalisedUsageError(exc) from exc

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = t("help.help", cli_lang(ctx))
        return option

    def format_usage(self, ctx, formatter):
        lang = cli_lang(ctx)
        pieces = " ".join(self.collect_usage_pieces(ctx))
        for english in ("[OPTIONS]", "COMMAND [ARGS]..."):
            key = "click.metavar.options" if english == "[OPTIONS]" else "click.metavar.command"
            pieces = pieces.replace(english, t(key, lang))
        formatter.write_usage(ctx.command_path, pieces, prefix=t("click.usage", lang))

    def format_help_text(self, ctx, formatter):
        text = inspect.cleandoc(_text(self.help, ctx)).partition("\f")[0]
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def get_short_help_str(self, limit: int = 45) -> str:
        text = inspect.cleandoc(_text(self.short_help or self.help)).split("\n\n")[0].replace("\n", " ")
        return text if len(text) <= limit else text[: max(limit - 3, 1)] + "..."

    def format_options(self, ctx, formatter):
        rows = [rv for rv in (p.get_help_record(ctx) for p in self.get_params(ctx)) if rv is not None]
        if rows:
            with formatter.section(t("click.options", cli_lang(ctx))):
                formatter.write_dl(rows)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)


class LocalisedCommand(_Localised, click.Command):
    """A command whose help and usage errors follow ``--lang`` / ``AUDITLIB_LANG``."""


class LocalisedGroup(_Localised, click.Group):
    """A group of :class:`LocalisedCommand` (and groups), localised the same way."""

    command_class = LocalisedCommand

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            if isinstance(exc, LocalisedUsageError):
                raise
            raise LocalisedUsageError(exc) from exc

    def format_commands(self, ctx, formatter):
        commands = [(name, cmd) for name in self.list_commands(ctx)
                    if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden]
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            with formatter.section(t("click.commands", cli_lang(ctx))):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in commands])


LocalisedGroup.group_class = LocalisedGroup


def option(*decls, **attrs):
    """``click.option`` with its help an i18n key (:class:`LocalisedOption`)."""
    return click.option(*decls, cls=LocalisedOption, **attrs)


LANG_OPTION = option(
    "--lang", type=click.Choice(["zh", "en"]), default=None,
    help="help.lang",
)


def _handle_errors(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except AuditlibError as exc:
            click.echo(f"错误 / error: {exc}", err=True)
            sys.exit(exc.exit_code)
    return wrapper


@click.group(cls=LocalisedGroup, help="help.main")
@click.version_option(__version__, prog_name="auditlib", cls=LocalisedOption, help="help.version")
@option("-v", "--verbose", is_flag=True, help="help.verbose")
@LANG_OPTION
def main(verbose: bool, lang: str | None) -> None:
    """auditlib: 财政专项检查审计工作台 (idle funds, slush funds, delayed payments)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@main.command(help="help.init")
@click.argument("folder", type=click.Path(file_okay=False))
@LANG_OPTION
@_handle_errors
def init(folder: str, lang: str | None) -> None:
    """Create an audit workspace in FOLDER: params/, notebooks/, data/, outputs/ and a README."""
    from auditlib.workspace import init_workspace

    path = init_workspace(folder)
    click.echo(f"已创建审计工作区 / audit workspace created: {path}\n"
               f"  先修改 / first edit {path / 'params' / 'default.yaml'} (project:)；说明见 / see {path / 'README.md'}")


@main.command(help="help.synth")
@click.argument("out_dir", type=click.Path(file_okay=False))
@option("--units", "n_units", type=click.IntRange(1, 100000), default=8, show_default=True,
              help="help.synth.units")
@option("--seed", type=int, default=2024, show_default=True, help="help.synth.seed")
@LANG_OPTION
@_handle_errors
def synth(out_dir: str, n_units: int, seed: int, lang: str | None) -> None:
    """Write a synthetic county (six tables + truth.csv) to OUT_DIR."""
    from auditlib.synth.county import generate

    summary = generate(out_dir, units=n_units, seed=seed)
    click.echo(summary.describe(lang or default_lang()))


@main.command(help="help.ingest")
@click.argument("data_dir", nargs=-1, required=True, type=click.Path(exists=True))
@option("--db", required=True, type=click.Path(dir_okay=False), help="help.ingest.db")
@option("--mapping", default=None, help="help.ingest.mapping")
@option("--replace/--no-replace", default=False, show_default=True, help="help.ingest.replace")
@option("--max-reject-share", type=click.FloatRange(0, 1), default=0.01, show_default=True,
        help="help.ingest.max_reject_share")
@LANG_OPTION
@_handle_errors
def ingest(data_dir: tuple[str, ...], db: str, mapping: str | None, replace: bool, max_reject_share: float,
           lang: str | None) -> None:
    """Load and validate the CSV/XLSX files of DATA_DIR (folders or files) into DB.

    Exit 0 when all is well, 1 when a file has more than ``--max-reject-share`` of its rows
    rejected (the data are loaded; the summary names the file), 2 on errors (nothing loaded).
    """
    from auditlib.ingest.load import ingest as run_ingest

    lang = lang or default_lang()
    report = run_ingest(list(data_dir), db, mapping=mapping, replace=replace)
    click.echo(report.describe(lang))
    if report.currency_label:
        click.echo(t("ingest.currency_hint", lang, profile=report.profile, label=report.currency_label))
    over = report.over_share(max_reject_share)
    for f in over:
        click.echo(t("ingest.over_share", lang, file=f.file, share=f"{f.rejected_share:.1%}",
                     limit=f"{max_reject_share:.1%}"), err=True)
    if over:
        sys.exit(1)


@main.command(help="help.rules")
@LANG_OPTION
@_handle_errors
def rules(lang: str | None) -> None:
    """Print the rule catalogue with parameters and legal basis."""
    from auditlib.rules.catalogue import render_catalogue

    click.echo(render_catalogue(lang or default_lang()))


def _params_lang(lang: str | None, params_file: str | None) -> str:
    """The language of a command taking ``--params``: ``--lang``, else ``AUDITLIB_LANG``, else the
    parameters' ``lang`` (the file given, or the workspace's defaults), else zh."""
    import os

    if lang:
        return lang
    if os.environ.get("AUDITLIB_LANG") in LANGS:
        return default_lang()
    try:
        from auditlib.rules.params import load_params

        return getattr(load_params(params_file), "lang", None) or default_lang()
    except AuditlibError:  # the command reports bad parameters itself
        return default_lang()


def _csv_list(value: str | None) -> list[str] | None:
    """``all`` or empty -> None (everything); ``a,b`` -> ['a', 'b'] (codes stay text)."""
    if value is None or value.strip().lower() in ("", "all"):
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


@main.command(help="help.scan")
@option("--db", required=True, type=click.Path(exists=True, dir_okay=False), help="help.db")
@option("--params", "params_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="help.params")
@option("--units", default=None, help="help.units")
@option("--inspections", default=None, help="help.inspections")
@option("--out", required=True, type=click.Path(dir_okay=False), help="help.scan.out")
@option("--timings", type=click.Path(dir_okay=False), default=None, help="help.scan.timings")
@LANG_OPTION
@_handle_errors
def scan(db, params_file, units, inspections, out, lang, timings) -> None:
    """Run every rule without notebooks and write findings.csv (CONTRACT §4)."""
    from auditlib.batch.scan import scan as run_scan

    result = run_scan(db, params_file=params_file, units=_csv_list(units),
                      inspections=_csv_list(inspections), out=out, lang=lang, timings=timings)
    click.echo(result.describe(_params_lang(lang, params_file)))


@main.command(help="help.run")
@option("--db", required=True, type=click.Path(exists=True, dir_okay=False), help="help.db")
@option("--params", "params_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="help.params")
@option("--units", default=None, help="help.units")
@option("--inspections", default=None, help="help.inspections")
@option("--out", default=None, type=click.Path(file_okay=False),
              help="help.run.out")
@option("--run-id", default=None, help="help.run.run_id")
@option("--resume/--no-resume", default=False, help="help.run.resume")
@option("--workers", type=click.IntRange(1, 256), default=None, help="help.run.workers")
@option("--scheduler", default=None, help="help.run.scheduler")
@option("--notebooks", type=click.Path(exists=True, file_okay=False), default=None,
              help="help.run.notebooks")
@option("--kernel", default="auditlib", show_default=True, help="help.run.kernel")
@option("--cell-timeout", type=click.IntRange(1, 86400), default=600, show_default=True,
              help="help.run.cell_timeout")
@option("--reuse-kernels/--fresh-kernels", default=True, show_default=True,
              help="help.run.reuse_kernels")
@option("--progress/--no-progress", default=True, help="help.run.progress")
@option("--register", "register_file", type=click.Path(dir_okay=False), default=None,
              help="help.run.register")
@option("--baseline", type=click.Path(exists=True, file_okay=False), default=None,
              help="help.run.baseline")
@LANG_OPTION
@_handle_errors
def run(db, params_file, units, inspections, out, run_id, resume, workers, scheduler, notebooks, kernel,
        cell_timeout, reuse_kernels, progress, register_file, baseline, lang) -> None:
    """Run the inspection notebooks per unit: ipynb, html, xlsx, index.html, manifest.json, findings.csv."""
    from auditlib.batch.run import run as run_batch
    from auditlib.workspace import outputs_dir

    out = out or str(outputs_dir())
    result = run_batch(db, params_file=params_file, units=_csv_list(units), inspections=_csv_list(inspections),
                       out=out, run_id=run_id, resume=resume, workers=workers, scheduler=scheduler,
                       notebooks=notebooks, kernel=kernel, cell_timeout=cell_timeout, progress=progress,
                       lang=lang, reuse_kernels=reuse_kernels, register=register_file, baseline=baseline)
    click.echo(result.describe(_params_lang(lang, params_file)))
    for task in result.failed:
        click.echo(f"  ✗ {task['unit_code']} {task['inspection']}: {task['error']}", err=True)
    _leave(result.exit_code)


def _leave(code: int) -> None:
    """Exit with ``code``.  As the ``auditlib`` command itself (not called from Python, not profiled or
    traced), once the exit handlers have run and the output is flushed, skip the interpreter's
    teardown of what a run imported (pandas, DuckDB, matplotlib ...: a few tenths of a second)."""
    import os
    from pathlib import Path

    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    command = argv0.stem == "auditlib" or (argv0.name == "__main__.py" and argv0.parent.name == "auditlib")
    if command and sys.getprofile() is None and sys.gettrace() is None:
        import atexit

        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


@main.command(help="help.diff")
@click.argument("run_a", type=click.Path(exists=True, file_okay=False))
@click.argument("run_b", type=click.Path(exists=True, file_okay=False))
@option("--out", required=True, type=click.Path(dir_okay=False), help="help.diff.out")
@LANG_OPTION
@_handle_errors
def diff(run_a, run_b, out, lang) -> None:
    """按疑点编号比较两个批次：新增 / 仍存在 / 已消除 / Compare two runs by finding_id: new,
    persisting, resolved from RUN_A to RUN_B (CONTRACT §6)."""
    from auditlib.batch.compare import write_diff
    from auditlib.review.statuses import Change

    lang = lang or default_lang()
    rows = write_diff(run_a, run_b, out, lang)
    counts = rows["change"].value_counts()
    click.echo(", ".join(f"{c.label(lang)} {int(counts.get(c.value, 0))}" for c in Change) + f" -> {out}")


# -- review: verification decisions in the findings register (CONTRACT §6) ----------------------

_REVIEW_MESSAGES = {
    "cli.review.imported": ("已导入 {n} 条核实结论（{unchanged} 条与登记簿一致，未重复记录；{undecided} 个疑点待核实）→ {register}",
                            "{n} decisions imported ({unchanged} already in the register, not recorded again; "
                            "{undecided} findings still open) -> {register}"),
    "cli.review.set": ("已记录 {n} 条核实结论（{status}）→ {register}", "{n} decisions recorded ({status}) -> {register}"),
    "cli.review.listed": ("{n} 行 → {out}", "{n} rows -> {out}"),
    "cli.review.where": ("必须给出 --db 或 --register", "Give --db or --register"),
    "cli.review.lookup": ("须用 --run 或 --db 查找疑点编号", "Give --run or --db to find the finding ids"),
}
register_messages(_REVIEW_MESSAGES)


def _review_register(db: str | None, register_file: str | None, lang: str | None):
    """--register, else register.jsonl beside --db."""
    from auditlib.errors import ReviewError
    from auditlib.i18n import t
    from auditlib.review.register import Register

    if register_file:
        return Register(register_file)
    if db:
        return Register.beside(db)
    raise ReviewError(t("cli.review.where", lang))


def _finding_lookup(run_dir: str | None, db: str | None, lang: str | None):
    """``finding_id`` -> (rule_id, unit_code, ref): from RUN_DIR/findings.csv, else the rules run on
    --db (run only when needed); and a description of where it looks."""
    from pathlib import Path

    from auditlib.errors import ReviewError
    from auditlib.i18n import t

    if not run_dir and not db:
        raise ReviewError(t("cli.review.lookup", lang))
    known: dict[str, tuple[str, str, str]] = {}
    if run_dir:
        from auditlib.outputs.findings_csv import read_findings_csv

        f = read_findings_csv(Path(run_dir) / "findings.csv")
        known.update(_keys(f))
    state = {"ran": False}

    def lookup(fid: str):
        if fid not in known and db and not state["ran"]:
            from auditlib.rules.engine import inspect

            state["ran"] = True
            for k, v in _keys(inspect(db).findings).items():
                known.setdefault(k, v)
        return known.get(fid)

    where = " + ".join(x for x in (f"{run_dir}/findings.csv" if run_dir else "", db or "") if x)
    return lookup, where


def _keys(findings) -> dict:
    from auditlib.rules.identity import finding_ids

    if not len(findings):
        return {}
    ids = findings["finding_id"] if "finding_id" in findings.columns else finding_ids(findings)
    return {str(i): (str(r), str(u), str(f)) for i, r, u, f in
            zip(ids, findings["rule_id"], findings["unit_code"], findings["ref"])}


@main.group(help="help.review")
@LANG_OPTION
def review(lang: str | None) -> None:
    """核实结论与疑点登记簿 / Verification decisions in the findings register (疑点登记簿)."""


_DB_OPTION = option("--db", default=None, type=click.Path(dir_okay=False),
                          help="help.review.db")
_REGISTER_OPTION = option("--register", "register_file", default=None, type=click.Path(dir_okay=False),
                                help="help.review.register")


@review.command("import", help="help.review.import")
@click.argument("workbooks", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_DB_OPTION
@_REGISTER_OPTION
@option("--by", default=None, help="help.review.import.by")
@LANG_OPTION
@_handle_errors
def review_import(workbooks, db, register_file, by, lang) -> None:
    """读回已填写的证据工作簿中的核实结论（全部无误才记录）/ Read decisions back from returned workbooks (all or nothing)."""
    from auditlib.i18n import t
    from auditlib.review.importer import import_workbooks

    lang = lang or default_lang()
    reg = _review_register(db, register_file, lang)
    result = import_workbooks(workbooks, reg, by=by, lang=lang)
    click.echo(t("cli.review.imported", lang, n=len(result.recorded), unchanged=result.unchanged,
                 undecided=result.undecided, register=reg.path))


@review.command("set", help="help.review.set")
@click.argument("finding_ids", nargs=-1, required=True)
@option("--status", required=True, type=click.Choice(["open", "confirmed", "dismissed", "rectified"]),
              help="help.review.set.status")
@option("--by", required=True, help="help.review.set.by")
@option("--reason", default="", help="help.review.set.reason")
@option("--amount", default=None, help="help.review.set.amount")
@_DB_OPTION
@_REGISTER_OPTION
@option("--run", "run_dir", default=None, type=click.Path(exists=True, file_okay=False),
              help="help.review.set.run")
@LANG_OPTION
@_handle_errors
def review_set(finding_ids, status, by, reason, amount, db, register_file, run_dir, lang) -> None:
    """记录一个或多个疑点的核实结论 / Record a decision about one or more findings."""
    from auditlib.i18n import t
    from auditlib.review.manual import set_status
    from auditlib.review.statuses import Status

    lang = lang or default_lang()
    reg = _review_register(db, register_file, lang)
    lookup, where = _finding_lookup(run_dir, db, lang)
    got = set_status(reg, finding_ids, status, by, lookup, reason=reason, amount=amount, source="cli",
                     where=where, lang=lang)
    click.echo(t("cli.review.set", lang, n=len(got), status=Status(status).label(lang), register=reg.path))


@review.command("list", help="help.review.list")
@_DB_OPTION
@_REGISTER_OPTION
@option("--status", default=None, type=click.Choice(["open", "confirmed", "dismissed", "rectified"]),
              help="help.review.list.status")
@option("--history", is_flag=True, help="help.review.list.history")
@option("--out", required=True, type=click.Path(dir_okay=False), help="help.diff.out")
@LANG_OPTION
@_handle_errors
def review_list(db, register_file, status, history, out, lang) -> None:
    """导出登记簿：每个疑点的最新结论（--history 为全部）/ The register as CSV: each finding's latest decision."""
    from auditlib.i18n import t
    from auditlib.review.listing import select, write_list

    lang = lang or default_lang()
    reg = _review_register(db, register_file, lang)
    rows = select(reg, status, history)
    write_list(rows, out)
    click.echo(t("cli.review.listed", lang, n=len(rows), out=out))


# -- sample: audit sampling (CONTRACT §7) -------------------------------------------------------

register_messages({
    "help.sample": ("审计抽样：从所选单位的支付（或某批次的疑点）中按货币单元抽样（mus）或简单随机抽样（random）"
                    "抽取可复现的样本，写出 sample.xlsx 与 plan.json；核实后用 auditlib sample evaluate 评价。",
                    "Audit sampling: draw a reproducible monetary-unit (mus) or simple random (random) sample of "
                    "the chosen units' payments (or a run's findings) into sample.xlsx and plan.json; evaluate "
                    "the verified sample with `auditlib sample evaluate`."),
    "help.sample.db": ("DuckDB 数据库文件（审计日志写在其旁）。", "DuckDB database file (the audit log goes beside it)."),
    "help.sample.population": ("抽样总体：payments（支付）或 findings（某批次的疑点，需 --run）。",
                               "Population: payments, or findings of a run (needs --run)."),
    "help.sample.method": ("mus 货币单元抽样 或 random 简单随机抽样（默认：参数 sampling.method）。",
                           "mus (monetary-unit) or random (default: the parameters' sampling.method)."),
    "help.sample.out": ("输出文件夹：sample.xlsx 与 plan.json。", "Output folder for sample.xlsx and plan.json."),
    "help.sample.units": ("以逗号分隔的单位编码（默认全部单位）。", "Unit codes separated by commas (default: all)."),
    "help.sample.expense_types": ("以逗号分隔的支出类型，如 会议费,劳务费。", "Expense types separated by commas, e.g. 会议费,劳务费."),
    "help.sample.from": ("支付日期起（YYYY-MM-DD）。", "Paid on or after (YYYY-MM-DD)."),
    "help.sample.to": ("支付日期止（YYYY-MM-DD）。", "Paid on or before (YYYY-MM-DD)."),
    "help.sample.min_amount": ("只含金额不低于此值的项目（元）。", "Only items of at least this amount (yuan)."),
    "help.sample.run": ("批次文件夹（以其 findings.csv 中的疑点为总体）。", "Run folder whose findings.csv is the population."),
    "help.sample.rules": ("以逗号分隔的规则编号（疑点总体）。", "Rule ids separated by commas (findings population)."),
    "help.sample.confidence": ("可信赖程度，(0, 1)，如 0.95（默认：参数 sampling.confidence）。",
                               "Confidence in (0, 1), e.g. 0.95 (default: the parameters' sampling.confidence)."),
    "help.sample.tolerable": ("可容忍错报（元；默认：账面金额 × sampling.tolerable_rate）。",
                              "Tolerable misstatement (yuan; default: book value × sampling.tolerable_rate)."),
    "help.sample.expected": ("预计错报（元；默认：账面金额 × sampling.expected_rate）。",
                             "Expected misstatement (yuan; default: book value × sampling.expected_rate)."),
    "help.sample.size": ("指定样本量 n（不按公式计算）。", "Fix the sample size n instead of computing it."),
    "help.sample.seed": ("随机种子：相同种子、数据与设置得到相同样本（默认随机生成并记入 plan.json）。",
                         "Seed: the same seed, data and settings give the same sample (default: a new one, "
                         "recorded in plan.json)."),
    "help.sample.evaluate": ("读回已填写的样本工作簿（全部无误才评价），推断错报并写入抽样方案表与 evaluation.json。",
                             "Read the filled sample workbook back (all or nothing), project the misstatement, "
                             "and write it onto the plan sheet and evaluation.json."),
})


def _missing(ctx: click.Context, name: str):
    param = next(p for p in ctx.command.params if p.name == name)
    return LocalisedUsageError(click.MissingParameter(ctx=ctx, param=param))


@main.group("sample", help="help.sample", invoke_without_command=True)
@option("--db", default=None, type=click.Path(exists=True, dir_okay=False), help="help.sample.db")
@option("--population", type=click.Choice(["payments", "findings"]), default="payments", show_default=True,
        help="help.sample.population")
@option("--method", type=click.Choice(["mus", "random"]), default=None, help="help.sample.method")
@option("--out", default=None, type=click.Path(file_okay=False), help="help.sample.out")
@option("--units", default=None, help="help.sample.units")
@option("--expense-types", default=None, help="help.sample.expense_types")
@option("--from", "date_from", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="help.sample.from")
@option("--to", "date_to", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="help.sample.to")
@option("--min-amount", default=None, help="help.sample.min_amount")
@option("--run", "run_dir", default=None, type=click.Path(exists=True, file_okay=False), help="help.sample.run")
@option("--rules", default=None, help="help.sample.rules")
@option("--confidence", type=float, default=None, help="help.sample.confidence")
@option("--tolerable", default=None, help="help.sample.tolerable")
@option("--expected", default=None, help="help.sample.expected")
@option("--size", type=int, default=None, help="help.sample.size")
@option("--seed", type=int, default=None, help="help.sample.seed")
@option("--params", "params_file", type=click.Path(exists=True, dir_okay=False), default=None, help="help.params")
@LANG_OPTION
@click.pass_context
@_handle_errors
def sample(ctx, db, population, method, out, units, expense_types, date_from, date_to, min_amount, run_dir, rules,
           confidence, tolerable, expected, size, seed, params_file, lang) -> None:
    """审计抽样 / Audit sampling (CONTRACT §7)."""
    if ctx.invoked_subcommand is not None:
        return
    from decimal import Decimal, InvalidOperation

    from auditlib.errors import SamplingError
    from auditlib.sampling.plan import SampleSettings, describe, draw_sample
    from auditlib.sampling.population import Filters

    for name, value in (("db", db), ("out", out)):
        if value is None:
            raise _missing(ctx, name)
    lang = _params_lang(lang, params_file)
    amount = None
    if min_amount is not None:
        try:
            amount = Decimal(min_amount.replace(",", ""))
            assert amount.is_finite()
        except (InvalidOperation, AssertionError):
            raise SamplingError(t("smp.bad_min", lang, value=min_amount), key="min_amount", reason="not money") from None
    filters = Filters(units=tuple(_csv_list(units) or ()), expense_types=tuple(_csv_list(expense_types) or ()),
                      date_from=date_from.date() if date_from else None, date_to=date_to.date() if date_to else None,
                      min_amount=amount, rules=tuple(_csv_list(rules) or ()))
    settings = SampleSettings(population=population, method=method, filters=filters, run_dir=run_dir,
                              confidence=confidence, tolerable=tolerable, expected=expected, size=size, seed=seed)
    plan = draw_sample(db, settings, out, params_file=params_file, lang=lang)
    click.echo(describe(plan, lang))


@sample.command("evaluate", help="help.sample.evaluate")
@click.argument("target", type=click.Path(exists=True))
@LANG_OPTION
@_handle_errors
def sample_evaluate(target, lang) -> None:
    """读回已填写的样本工作簿并评价 / Evaluate a filled sample workbook."""
    from auditlib.sampling.evaluate import describe, evaluate

    result = evaluate(target, lang=lang)
    click.echo(describe(result, lang or result.get("lang") or default_lang()))


if __name__ == "__main__":  # pragma: no cover
    main()
