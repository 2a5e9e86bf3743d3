using System.Reflection;

namespace Rlm.Tools.Tests.Orchestration;

/// <summary>
/// Every option setter that refuses a value says which property refused it (<c>ParamName</c> is the property's name, not
/// <c>value</c>), the way a user reads it in a configuration error. Found by reflection over the public option classes, so
/// a new property is covered without a test change.
/// </summary>
public sealed class OptionSetterNameTests
{
    public static TheoryData<Type> OptionTypes() => new([typeof(RlmOptions), typeof(RlmChatClientOptions), typeof(RlmCorpusToolOptions)]);

    [Theory]
    [MemberData(nameof(OptionTypes))]
    public void ARefusedValue_NamesTheProperty(Type type)
    {
        var refusals = new List<string>();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.SetMethod!.IsPublic))
        {
            foreach (object? bad in BadValues(property.PropertyType))
            {
                var target = Activator.CreateInstance(type)!;
                try
                {
                    property.SetValue(target, bad);
                }
                catch (TargetInvocationException e) when (e.InnerException is ArgumentException refused)
                {
                    Assert.True(refused.ParamName == property.Name, $"{type.Name}.{property.Name} = {bad ?? "null"}: ParamName is '{refused.ParamName}'; message: {refused.Message}");
                    refusals.Add(property.Name);
                }
            }
        }

        Assert.NotEmpty(refusals); // each of these classes validates something: the check above ran
    }

    [Fact]
    public void TheMessage_NamesTheProperty()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RlmOptions { MaxIterations = 0 });
        Assert.Equal("MaxIterations", e.ParamName);
        Assert.StartsWith("MaxIterations ('0') must be greater than or equal to '1'.", e.Message, StringComparison.Ordinal);
    }

    private static IEnumerable<object?> BadValues(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(int))
        {
            return [0, -1, int.MaxValue];
        }

        if (underlying == typeof(long))
        {
            return [0L, -1L];
        }

        if (underlying == typeof(decimal))
        {
            return [0m, -1m];
        }

        if (underlying == typeof(double))
        {
            return [0d, -1d];
        }

        if (underlying == typeof(TimeSpan))
        {
            return [TimeSpan.Zero, TimeSpan.FromTicks(-1), TimeSpan.MaxValue];
        }

        if (underlying == typeof(string))
        {
            return [null, " "];
        }

        return type.IsValueType ? [] : [null];
    }
}
