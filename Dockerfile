# rlm serve in a container: built from source with the .NET SDK, run on the ASP.NET Core runtime as a non-root user.
#   docker build -t rlm-tools .
#   docker run --rm -p 8080:8080 -v "$PWD/docs:/data:ro" rlm-tools --dir /data
# Model options as for rlm: offline by default; for an OpenAI-compatible endpoint pass -e OPENAI_API_KEY (and
# OPENAI_BASE_URL) and --model. deploy/compose.yaml runs three replicas behind a reverse proxy, sharing Redis.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# The project files first: the restore layer is reused until a dependency changes.
COPY nuget.config Directory.Build.props Directory.Packages.props ./
COPY src/Directory.Build.props src/Directory.Build.targets src/
COPY src/Rlm.Tools/Rlm.Tools.csproj src/Rlm.Tools/
COPY src/Rlm.Tools.OpenAI/Rlm.Tools.OpenAI.csproj src/Rlm.Tools.OpenAI/
COPY src/Rlm.Tools.Mcp/Rlm.Tools.Mcp.csproj src/Rlm.Tools.Mcp/
COPY src/Rlm.Tools.Server/Rlm.Tools.Server.csproj src/Rlm.Tools.Server/
COPY src/Rlm.Tools.Cli/Rlm.Tools.Cli.csproj src/Rlm.Tools.Cli/
RUN dotnet restore src/Rlm.Tools.Cli/Rlm.Tools.Cli.csproj
COPY prompts/ prompts/
COPY src/ src/
RUN dotnet publish src/Rlm.Tools.Cli/Rlm.Tools.Cli.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The image's own unprivileged user (uid 1654), never root.
USER $APP_UID
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1
EXPOSE 8080
# Listens on every interface inside the container; stop with SIGTERM (docker stop): in-flight queries get the
# shutdown bound documented in `rlm serve --help`.
ENTRYPOINT ["dotnet", "rlm.dll", "serve", "--urls", "http://0.0.0.0:8080"]
