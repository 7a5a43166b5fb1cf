FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
COPY patches ./patches
# tsx runs the TypeScript sources directly; dev dependencies (tests, lint) are not needed.
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY drizzle ./drizzle
COPY bin ./bin
COPY tsconfig.json ./
USER node
EXPOSE 3000
CMD ["npm", "start"]
