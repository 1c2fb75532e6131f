namespace AccelBroker.Benchmarks;

/// <summary>Where the fixtures, the large models and their generator live in the checkout.</summary>
internal sealed class RepoPaths
{
    private RepoPaths(string root)
    {
        Root = root;
    }

    public string Root { get; }

    public string FixturesDirectory => Path.Combine(Root, "tests", "models");

    /// <summary>The git-ignored folder make-large-models.sh writes to.</summary>
    public string LargeModelsDirectory => Path.Combine(Root, ".models");

    public string LargeModelsScript => Path.Combine(FixturesDirectory, "make-large-models.sh");

    public string Fixture(string fileName) => Path.Combine(FixturesDirectory, fileName);

    public string LargeModel(string fileName) => Path.Combine(LargeModelsDirectory, fileName);

    /// <summary>Walks up from the working directory, then from the executable, to the folder holding tests/models.</summary>
    /// <exception cref="DirectoryNotFoundException">Neither is inside the repository.</exception>
    public static RepoPaths Find()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Directory.Build.props"))
                    && File.Exists(Path.Combine(dir.FullName, "tests", "models", "demo_mlp.pt")))
                {
                    return new RepoPaths(dir.FullName);
                }
            }
        }

        throw new DirectoryNotFoundException("cannot find the repository root (a folder with Directory.Build.props and tests/models/demo_mlp.pt); run from inside the checkout");
    }
}
