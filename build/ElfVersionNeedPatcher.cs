using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Marks version needs of a native library weak when the system libstdc++ does not define them.
// libLibTorchSharp.so (TorchSharp 0.107) needs GLIBCXX_3.4.32 for one symbol it references without a
// relocation; Debian 12 stops at 3.4.30, so the loader refuses the library. A weak need makes glibc
// accept it. Only copies in the build output are patched, through a temp file and a rename, so a
// copy hard-linked to the NuGet cache is never written through.
public sealed class ElfVersionNeedPatcher : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    [Required]
    public string NeededLibrary { get; set; } = "libstdc++.so.6";

    [Required]
    public string SystemLibrary { get; set; } = "";

    public override bool Execute()
    {
        if (!File.Exists(SystemLibrary))
        {
            Log.LogMessage(MessageImportance.Low, "{0} not found; nothing to patch.", SystemLibrary);
            return true;
        }

        string systemText = Encoding.ASCII.GetString(File.ReadAllBytes(SystemLibrary));
        foreach (ITaskItem item in Files)
        {
            string path = item.ItemSpec;
            if (!File.Exists(path))
            {
                continue;
            }

            byte[] image = File.ReadAllBytes(path);
            var patched = new List<string>();
            if (!TryMarkMissingWeak(image, systemText, patched, out string error))
            {
                Log.LogError("Cannot patch {0}: {1}", path, error);
                return false;
            }

            if (patched.Count == 0)
            {
                continue;
            }

            string temp = path + ".patching";
            File.WriteAllBytes(temp, image);
            File.Delete(path);
            File.Move(temp, path);
            Log.LogMessage(MessageImportance.High, "Marked {0} weak in {1} (not defined by {2}).", string.Join(", ", patched), path, SystemLibrary);
        }

        return true;
    }

    private bool TryMarkMissingWeak(byte[] image, string systemText, List<string> patched, out string error)
    {
        error = "";
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
        {
            error = "not an ELF file";
            return false;
        }

        if (image[4] != 2 || image[5] != 1)
        {
            error = "only little-endian ELF64 is supported";
            return false;
        }

        long sectionOffset = BitConverter.ToInt64(image, 0x28);
        int sectionSize = BitConverter.ToUInt16(image, 0x3A);
        int sectionCount = BitConverter.ToUInt16(image, 0x3C);
        for (int i = 0; i < sectionCount; i++)
        {
            int header = checked((int)(sectionOffset + (long)i * sectionSize));
            if (BitConverter.ToUInt32(image, header + 4) != ShtGnuVerneed)
            {
                continue;
            }

            int offset = checked((int)BitConverter.ToInt64(image, header + 0x18));
            int linkedStrings = (int)BitConverter.ToUInt32(image, header + 0x28);
            int needCount = (int)BitConverter.ToUInt32(image, header + 0x2C);
            int stringsHeader = checked((int)(sectionOffset + (long)linkedStrings * sectionSize));
            int strings = checked((int)BitConverter.ToInt64(image, stringsHeader + 0x18));

            int need = offset;
            for (int n = 0; n < needCount; n++)
            {
                int auxCount = BitConverter.ToUInt16(image, need + 2);
                string file = ReadString(image, strings + (int)BitConverter.ToUInt32(image, need + 4));
                int aux = need + (int)BitConverter.ToUInt32(image, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    ushort flags = BitConverter.ToUInt16(image, aux + 4);
                    string name = ReadString(image, strings + (int)BitConverter.ToUInt32(image, aux + 8));
                    if (file == NeededLibrary && (flags & VerFlagWeak) == 0 && !systemText.Contains(name + "\0"))
                    {
                        flags |= VerFlagWeak;
                        image[aux + 4] = (byte)flags;
                        image[aux + 5] = (byte)(flags >> 8);
                        patched.Add(name);
                    }

                    aux += (int)BitConverter.ToUInt32(image, aux + 12);
                }

                uint next = BitConverter.ToUInt32(image, need + 12);
                if (next == 0)
                {
                    break;
                }

                need += (int)next;
            }
        }

        return true;
    }

    private static string ReadString(byte[] image, int offset)
    {
        int end = offset;
        while (image[end] != 0)
        {
            end++;
        }

        return Encoding.ASCII.GetString(image, offset, end - offset);
    }
}
