using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace AccelBroker.Hosting.CommandLine;

/// <summary>
/// A host's command line: System.CommandLine declares the flags (and generates <c>--help</c>) and splits the
/// arguments into tokens; the tokens are then read in order, so the first problem is the one reported, with the
/// messages the hosts have always printed. Values are not checked here: they are configuration values, checked
/// once by <see cref="HostSettings{TOptions}.Bind"/> whichever source they came from.
/// </summary>
/// <typeparam name="TOptions">The host's options record.</typeparam>
public sealed class HostCommandLine<TOptions>
{
    // No response files, bundling or directives: "@x" and "[x]" stay arguments, as they always were.
    private static readonly ParserConfiguration s_parser = new() { EnablePosixBundling = false, ResponseFileTokenReplacer = null };

    private readonly Command _command;
    private readonly HelpOption _help = new();
    private readonly Dictionary<string, HostSetting<TOptions>> _byFlag = new(StringComparer.Ordinal);

    /// <summary>Declares a flag for every setting that has one.</summary>
    /// <param name="name">The executable's name, shown in the usage line.</param>
    /// <param name="description">What the host does, shown at the top of the help.</param>
    /// <param name="settings">The host's settings.</param>
    public HostCommandLine(string name, string description, HostSettings<TOptions> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _command = new Command(name, description);
        foreach (HostSetting<TOptions> setting in settings)
        {
            if (setting.Flag is not { } flag)
            {
                continue;
            }

            Option option = setting.ValueName is null
                ? new Option<bool>(flag) { Description = setting.Description, Arity = ArgumentArity.Zero }
                : new Option<string>(flag) { Description = setting.Description, HelpName = setting.ValueName };
            _command.Options.Add(option);
            _byFlag.Add(flag, setting);
        }

        _command.Options.Add(_help);
    }

    /// <summary>Reads <paramref name="args"/>; both <c>--name value</c> and <c>--name=value</c>.</summary>
    public HostCommandLineResult Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        ParseResult parsed = _command.Parse(SplitEquals(args), s_parser);
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var given = new HashSet<string>(StringComparer.Ordinal);
        IReadOnlyList<Token> tokens = parsed.Tokens;
        for (int i = 0; i < tokens.Count; i++)
        {
            Token token = tokens[i];
            if (token.Type == TokenType.Option && (token.Value == _help.Name || _help.Aliases.Contains(token.Value)))
            {
                return new HostCommandLineResult(null, ShowHelp: true, null);
            }

            if (token.Type != TokenType.Option || !_byFlag.TryGetValue(token.Value, out HostSetting<TOptions>? setting))
            {
                return Fail(token.Value.StartsWith('-') ? $"unknown option '{NameOf(token.Value)}'" : $"unexpected argument '{token.Value}'");
            }

            string flag = token.Value;
            // Both hosts: a flag given twice is a mistake in a script, not an override.
            if (!given.Add(flag))
            {
                return Fail($"option {flag} is given more than once");
            }

            string value = "true";
            if (setting.ValueName is not null)
            {
                // A flag right after a flag is a missing value, not the value.
                if (i + 1 >= tokens.Count || tokens[i + 1].Type != TokenType.Argument || tokens[i + 1].Value.StartsWith("--", StringComparison.Ordinal))
                {
                    return Fail($"option {flag} needs a value");
                }

                value = tokens[++i].Value;
                if (value.Length == 0)
                {
                    return Fail($"option {flag} needs a non-empty value");
                }
            }

            values[setting.Key] = value;
        }

        return new HostCommandLineResult(values, ShowHelp: false, null);
    }

    /// <summary>Writes the generated help.</summary>
    public void WriteHelp(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _command.Parse(["--help"], s_parser).Invoke(new InvocationConfiguration { Output = output });
    }

    // "--name=value" becomes "--name" "value" for a flag that takes a value, so "--name=" is an empty value
    // (System.CommandLine would drop it) and a value may contain ':' or '='.
    private List<string> SplitEquals(IReadOnlyList<string> args)
    {
        var split = new List<string>(args.Count);
        foreach (string arg in args)
        {
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0
                && _byFlag.TryGetValue(arg[..equals], out HostSetting<TOptions>? setting) && setting.ValueName is not null)
            {
                split.Add(arg[..equals]);
                split.Add(arg[(equals + 1)..]);
            }
            else
            {
                split.Add(arg);
            }
        }

        return split;
    }

    private static string NameOf(string arg)
    {
        int equals = arg.IndexOf('=', StringComparison.Ordinal);
        return arg.StartsWith("--", StringComparison.Ordinal) && equals > 0 ? arg[..equals] : arg;
    }

    private static HostCommandLineResult Fail(string error) => new(null, ShowHelp: false, error);
}
